namespace CachingGen.Storage;

/// <summary>
/// The cache store could not answer: the server is down or unreachable, the operation exceeded the store's timeout
/// (for Redis, <c>RedisCacheOptions.OperationTimeout</c>), or the server answered with an error. This is the only
/// exception type an <see cref="ICacheStore"/> operation raises for a cache-side problem (argument errors and
/// cancellation keep their usual types), so the runtime degrades to the database on exactly this type: reads go to
/// the inner repository, writes still commit and leave the keys pending invalidation.
/// </summary>
/// <remarks>
/// The message names the operation and the server endpoints only: never a key (keys may carry user data) and never
/// the connection string (it may carry a password). The original client exception is the
/// <see cref="Exception.InnerException"/>.
/// </remarks>
public sealed class CacheStoreUnavailableException : Exception
{
    /// <summary>Creates the exception with a default message.</summary>
    public CacheStoreUnavailableException()
        : base("The cache store is unavailable.")
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    public CacheStoreUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/> and the client exception that caused it.</summary>
    public CacheStoreUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
