using System.Collections.Concurrent;
using System.Reflection;
using StackExchange.Redis;

namespace CachingGen.Redis.Tests;

/// <summary>
/// Records what a store asks of StackExchange.Redis: wraps a real connection so that every <see cref="IDatabase"/>
/// call, every <see cref="IBatch"/> and every command queued in a batch is counted while still going to the real
/// server. "Round trips" here are the commands sent on their own (each is awaited on its own) plus one per executed
/// batch.
/// </summary>
internal sealed class CountingConnection
{
    private readonly ConcurrentQueue<string> _databaseCalls = new();
    private readonly ConcurrentQueue<BatchRecord> _batches = new();

    public CountingConnection(IConnectionMultiplexer inner)
    {
        Connection = CountingProxy<IConnectionMultiplexer>.Wrap(inner, (method, result) =>
            method.Name == nameof(IConnectionMultiplexer.GetDatabase) ? WrapDatabase((IDatabase)result!) : result);
    }

    public IConnectionMultiplexer Connection { get; }

    /// <summary>Commands sent directly on the database (not in a batch), by method name.</summary>
    public IReadOnlyList<string> DatabaseCalls => _databaseCalls.ToArray();

    public IReadOnlyList<BatchRecord> Batches => _batches.ToArray();

    public void Reset()
    {
        _databaseCalls.Clear();
        _batches.Clear();
    }

    private IDatabase WrapDatabase(IDatabase database)
        => CountingProxy<IDatabase>.Wrap(database, (method, result) =>
        {
            if (method.Name is not (nameof(IDatabase.Database) or nameof(IDatabase.Multiplexer)))
            {
                _databaseCalls.Enqueue(method.Name);
            }

            if (method.Name == nameof(IDatabase.CreateBatch))
            {
                var record = new BatchRecord();
                _batches.Enqueue(record);
                return CountingProxy<IBatch>.Wrap(
                    (IBatch)result!,
                    (batchMethod, batchResult) =>
                {
                    if (batchMethod.Name == nameof(IBatch.Execute))
                    {
                        record.Executed++;
                    }
                    else if (batchResult is Task task)
                    {
                        record.Commands.Add(batchMethod.Name);
                        record.Tasks.Add(task);
                    }

                    return batchResult;
                },
                    before: batchMethod =>
                    {
                        if (batchMethod.Name == nameof(IBatch.Execute))
                        {
                            record.CompletedBeforeExecute = record.Tasks.Count(t => t.IsCompleted);
                        }
                    });
            }

            return result;
        });

    internal sealed class BatchRecord
    {
        public List<string> Commands { get; } = new();

        public List<Task> Tasks { get; } = new();

        public int Executed { get; set; }

        public int CompletedBeforeExecute { get; set; } = -1;
    }
}

/// <summary>A <see cref="DispatchProxy"/> that forwards every call to a target and lets a callback see (and replace) the result.</summary>
public class CountingProxy<T> : DispatchProxy
    where T : class
{
    private T _target = null!;
    private Func<MethodInfo, object?, object?> _onResult = null!;
    private Action<MethodInfo>? _before;

    internal static T Wrap(T target, Func<MethodInfo, object?, object?> onResult, Action<MethodInfo>? before = null)
    {
        var proxy = Create<T, CountingProxy<T>>();
        var counting = (CountingProxy<T>)(object)proxy;
        counting._target = target;
        counting._onResult = onResult;
        counting._before = before;
        return proxy;
    }

    /// <inheritdoc />
    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        _before?.Invoke(targetMethod);
        try
        {
            var result = targetMethod.Invoke(_target, args);
            return _onResult(targetMethod, result);
        }
        catch (TargetInvocationException exception) when (exception.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(exception.InnerException).Throw();
            throw;
        }
    }
}
