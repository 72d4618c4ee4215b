using System.Diagnostics.Metrics;
using System.Threading.Channels;
using StackExchange.Redis;

namespace CachingGen.Redis;

/// <summary>
/// Group commit of the store's write steps (write markers, completions, invalidations). Callers enqueue a step (all
/// the single-key commands of one call) without taking a lock; one loop drains everything queued, sends it as ONE
/// pipelined <see cref="IBatch"/>, and waits for that batch's replies before sending the next, so while one round trip
/// is out the steps of concurrent callers pile up and share the next one. Redis spends far less CPU per command on a
/// batch than on commands that arrive one per read, which is what a per-call write-through otherwise costs.
/// </summary>
/// <remarks>Each caller's task completes when its own commands have answered, with one reply (a result or an error)
/// per command; the caller bounds its wait by the operation timeout. A step whose caller cancelled before it was sent
/// is dropped.</remarks>
internal sealed class RedisWritePipeline
{
    /// <summary>The most commands one batch carries; more queued commands go in the next batch.</summary>
    private const int MaxCommandsPerBatch = 4096;

    private readonly Channel<PipelineStep> _queue = Channel.CreateUnbounded<PipelineStep>(new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });
    private readonly IDatabase _database;
    private readonly TimeSpan _timeout;
    private readonly Counter<long> _batchCounter;
    private readonly Counter<long> _commandCounter;
    private readonly Task _loop;
    private long _batches;
    private long _commands;

    public RedisWritePipeline(IDatabase database, TimeSpan timeout, Meter meter)
    {
        _database = database;
        _timeout = timeout;
        _batchCounter = meter.CreateCounter<long>("cachinggen.redis.batches", "{batch}", "Pipelined batches of write steps sent to Redis (group commit).");
        _commandCounter = meter.CreateCounter<long>("cachinggen.redis.batched_commands", "{command}", "Commands sent in those batches.");
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Batches sent so far.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Commands sent in those batches so far.</summary>
    public long Commands => Interlocked.Read(ref _commands);

    /// <summary>Queues a step; the task completes with one reply per command.</summary>
    public Task<RedisReply[]> EnqueueAsync(RedisCommand[] commands, bool sendSource, CancellationToken cancellationToken)
    {
        var step = new PipelineStep(commands, sendSource, cancellationToken);
        if (!_queue.Writer.TryWrite(step))
        {
            throw new ObjectDisposedException(nameof(RedisCacheStore));
        }

        return step.Completion.Task;
    }

    /// <summary>Accepts no more steps; the loop sends what is queued, then ends (<see cref="Completion"/>).</summary>
    public void Complete() => _queue.Writer.TryComplete();

    /// <summary>Ends when the loop has ended after <see cref="Complete"/>.</summary>
    public Task Completion => _loop;

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        var sent = new List<Task>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            IBatch batch;
            try
            {
                batch = _database.CreateBatch();
            }
            catch (Exception exception)
            {
                while (reader.TryRead(out var step))
                {
                    step.Completion.TrySetException(exception);
                }

                continue;
            }

            var commands = 0;
            while (commands < MaxCommandsPerBatch && reader.TryRead(out var step))
            {
                if (step.CancellationToken.IsCancellationRequested)
                {
                    step.Completion.TrySetCanceled(step.CancellationToken);
                    continue;
                }

                try
                {
                    sent.Add(step.Queue(batch));
                    commands += step.Commands.Length;
                }
                catch (Exception exception)
                {
                    step.Completion.TrySetException(exception);
                }
            }

            if (sent.Count == 0)
            {
                continue;
            }

            try
            {
                batch.Execute();
            }
            catch (Exception exception)
            {
                // Queued commands fail on their own when the batch cannot be sent; nothing to add here.
                _ = exception;
            }

            Interlocked.Increment(ref _batches);
            Interlocked.Add(ref _commands, commands);
            _batchCounter.Add(1);
            _commandCounter.Add(commands);

            // Group commit: the next batch goes out when this one has answered (or the timeout says the server will
            // not), so steps that arrive meanwhile share one round trip.
            try
            {
                await Task.WhenAll(sent).WaitAsync(_timeout).ConfigureAwait(false);
            }
            catch
            {
                // Each caller sees its own failure through its step.
            }

            sent.Clear();
        }
    }

    private sealed class PipelineStep(RedisCommand[] commands, bool sendSource, CancellationToken cancellationToken)
    {
        public RedisCommand[] Commands { get; } = commands;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public TaskCompletionSource<RedisReply[]> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Adds the step's commands to <paramref name="batch"/>; the returned task ends when all answered.</summary>
        public Task Queue(IBatch batch)
        {
            var tasks = new Task[Commands.Length];
            for (var i = 0; i < tasks.Length; i++)
            {
                var command = Commands[i];
                var keys = new[] { command.Key };
                tasks[i] = command.Script is { } script
                    ? (sendSource
                        ? batch.ScriptEvaluateAsync(script.Source, keys, command.Arguments)
                        : batch.ScriptEvaluateAsync(script.Sha1, keys, command.Arguments))
                    : batch.StringSetAsync(command.Key, command.Arguments[0], command.Expiry, keepTtl: false, When.Always, CommandFlags.None);
            }

            return CompleteAsync(tasks);
        }

        private async Task CompleteAsync(Task[] tasks)
        {
            try
            {
                await Task.WhenAll(tasks).ConfigureAwait(false);
            }
            catch
            {
                // Read every command's own outcome below.
            }

            var replies = new RedisReply[tasks.Length];
            for (var i = 0; i < tasks.Length; i++)
            {
                var task = tasks[i];
                replies[i] = task.Status switch
                {
                    TaskStatus.RanToCompletion => new RedisReply(task is Task<RedisResult> evaluated ? evaluated.Result : null, null),
                    TaskStatus.Faulted => new RedisReply(null, task.Exception!.InnerException ?? task.Exception),
                    _ => new RedisReply(null, new TaskCanceledException(task)),
                };
            }

            Completion.TrySetResult(replies);
        }
    }
}

/// <summary>The answer to one command of a step: its result (null for a SET) or its error.</summary>
internal readonly record struct RedisReply(RedisResult? Result, Exception? Error);

/// <summary>One single-key command of a pipelined step: a script evaluation (<see cref="Script"/> set) or a plain
/// <c>SET key Arguments[0] [PX Expiry]</c>.</summary>
internal readonly record struct RedisCommand(RedisKey Key, RedisScripts? Script, RedisValue[] Arguments, TimeSpan? Expiry = null);
