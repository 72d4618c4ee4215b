namespace CachingGen.Redis;

/// <summary>
/// The cache store could not answer: the server is down or unreachable, the operation exceeded
/// <see cref="RedisCacheOptions.OperationTimeout"/>, or the server answered with an error. This is the only
/// exception type a <see cref="RedisCacheStore"/> operation raises for a server-side problem (argument errors and
/// cancellation keep their usual types), so callers can degrade to the database on exactly this type.
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
