namespace CachingGen.Storage;

/// <summary>
/// A cache store that can tell when its server answers again after an outage (a restored connection). The runtime
/// then retries its pending invalidations at once instead of at the end of its backoff: until they land, other
/// processes may still read the values those writes replaced.
/// </summary>
public interface IRecoveringCacheStore
{
    /// <summary>Raised when a connection to the store's server is restored. Handlers must return quickly.</summary>
    event EventHandler? Recovered;
}
