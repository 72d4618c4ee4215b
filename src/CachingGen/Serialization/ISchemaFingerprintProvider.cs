namespace CachingGen.Serialization;

/// <summary>
/// Implemented by a formatter resolver that knows the schema fingerprint of the types it serializes. The runtime
/// stores the fingerprint in every cache envelope and treats an entry with a different fingerprint as a miss.
/// </summary>
public interface ISchemaFingerprintProvider
{
    /// <summary>The schema fingerprint of <typeparamref name="T"/>, or 0 when it is unknown.</summary>
    ulong GetSchemaFingerprint<T>();
}
