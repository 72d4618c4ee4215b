namespace CachingGen.Storage;

/// <summary>Argument checks every <see cref="ICacheStore"/> makes the same way, so each store reports bad input with the
/// same message.</summary>
public static class CacheStoreArguments
{
    /// <summary>Throws when an invalidation's fill time to live is given and not positive.</summary>
    public static void RequirePositiveFillTimeToLive(TimeSpan? fillTimeToLive)
    {
        if (fillTimeToLive is { } fill && fill <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(fillTimeToLive), fill, "The fill time to live must be positive.");
        }
    }
}
