using System.ComponentModel;
using CachingGen.WriteBack;
using MessagePack;

namespace CachingGen.Runtime;

/// <summary>Helpers for generated write-back dispatchers.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class WriteBackDispatch
{
    /// <summary>The inner repository to replay against: the bound instance, or the one resolved from the batch's scope.</summary>
    public static TRepository ResolveInner<TRepository>(TRepository? bound, Func<IServiceProvider, TRepository>? resolve, IServiceProvider? services, string repository)
        where TRepository : class
    {
        if (bound is not null)
        {
            return bound;
        }

        if (resolve is null)
        {
            throw new InvalidOperationException(
                $"The write-back dispatcher of '{repository}' has neither an inner repository instance nor a way to resolve one.");
        }

        if (services is null)
        {
            throw new InvalidOperationException(
                $"The write-back dispatcher of '{repository}' resolves its inner repository from dependency injection, but the flush " +
                "ran without a service provider. Build the runtime through services.AddCachingGen() so flush batches get a scope, " +
                "or register a dispatcher bound to an inner repository instance.");
        }

        return resolve(services) ?? throw new InvalidOperationException(
            $"The write-back dispatcher of '{repository}' resolved a null inner repository.");
    }

    /// <summary>The error for a record whose method this build does not have (renamed or removed since it was logged).</summary>
    public static Exception UnknownMethod(WriteBackRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new PermanentWriteBackException(
            $"Write-back record '{record.IdempotencyKey}' names method '{record.Method}' of repository '{record.Repository}', " +
            "which this build does not have: the method was renamed or removed since the record was logged. " +
            "The record cannot be replayed and is dead-lettered.");
    }

    /// <summary>The single argument of each record of a multi-row apply, in the records' order (the collection the
    /// <see cref="WriteBackAttribute.ApplyManyWith"/> method receives).</summary>
    /// <exception cref="ArgumentException">A record is of another method than <paramref name="method"/>.</exception>
    /// <exception cref="PermanentWriteBackException">A record's arguments do not deserialize (the flusher then applies the
    /// records one by one, so only that record is dead-lettered).</exception>
    public static T[] DeserializeMany<T>(IReadOnlyList<WriteBackRecord> records, string method, MessagePackSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(method);
        var values = new T[records.Count];
        for (var i = 0; i < values.Length; i++)
        {
            var record = records[i];
            if (!string.Equals(record.Method, method, StringComparison.Ordinal))
            {
                throw new ArgumentException(
                    $"A multi-row apply of '{method}' got record '{record.IdempotencyKey}' of method '{record.Method}': every record of one call must be of the same method.",
                    nameof(records));
            }

            WriteBackArguments.Deserialize(record.Arguments, options, out values[i]);
        }

        return values;
    }

    /// <summary>The error for a multi-row apply of a method that has none (<see cref="IWriteBackBatchDispatcher.CanApplyMany"/> is false for it).</summary>
    public static Exception NoMultiRowApply(IReadOnlyList<WriteBackRecord> records, string repository)
    {
        ArgumentNullException.ThrowIfNull(records);
        var method = records.Count > 0 ? records[0].Method : "(no record)";
        return new ArgumentException(
            $"Method '{method}' of repository '{repository}' has no multi-row apply (WriteBack.ApplyManyWith); apply its records one by one.",
            nameof(records));
    }
}
