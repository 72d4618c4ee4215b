namespace CachingGen.Runtime;

/// <summary>
/// A write-back record that can never be applied by this build (its method was renamed or removed, or its
/// arguments no longer match the method). The flusher dead-letters such a record at once instead of retrying it.
/// </summary>
public sealed class PermanentWriteBackException : InvalidOperationException
{
    /// <summary>Creates the exception with its message.</summary>
    public PermanentWriteBackException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its message and the error that caused it.</summary>
    public PermanentWriteBackException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
