namespace CachingGen.Serialization;

/// <summary>
/// Gives the schema fingerprint of a type that CachingGen generated (or explicitly registered) a MessagePack
/// formatter for. The fingerprint is a stable 64-bit hash of the type's serialized layout (keys, member names,
/// member types, collection shapes, recursively), computed at compile time. It changes when a member is added,
/// removed, reordered, renamed or changes type; it does not change when only the name or namespace of a type
/// changes while its layout stays the same. Caches use it to version entries so that a deployment with a changed
/// layout never reads bytes written with the old one.
/// </summary>
public interface ISchemaFingerprintProvider
{
    /// <summary>
    /// Returns the schema fingerprint of <typeparamref name="T"/>; returns 0 when <typeparamref name="T"/> is not
    /// one of the types this provider has a generated or explicitly constructed formatter for.
    /// </summary>
    /// <typeparam name="T">The serialized type, as the cache stores it (for example an entity or a list of them).</typeparam>
    ulong GetSchemaFingerprint<T>();
}
