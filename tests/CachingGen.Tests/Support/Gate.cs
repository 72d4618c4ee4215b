namespace CachingGen.Tests.Support;

/// <summary>Holds one store call: <see cref="Reached"/> completes when it is held, <see cref="Open"/> lets it go.</summary>
public sealed class Gate
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Reached => _reached.Task;

    public void Open() => _open.SetResult();

    /// <summary>Lets the held call go with <paramref name="exception"/> (a timeout, a cancelled command).</summary>
    public void Fail(Exception exception) => _open.SetException(exception);

    /// <summary>Holds the next fill before it reaches the store (a slow fill command); later fills pass.</summary>
    public static Gate HoldNextFill(FlakyCacheStore store)
    {
        var gate = new Gate();
        store.DelayFill = gate.Once(() => store.DelayFill = null);
        return gate;
    }

    /// <summary>Holds the next lookup's answer after the store gave it (a reply handled late); later ones pass.</summary>
    public static Gate HoldNextGetReply(FlakyCacheStore store)
    {
        var gate = new Gate();
        store.DelayGetReply = gate.Once(() => store.DelayGetReply = null);
        return gate;
    }

    private Func<Task> Once(Action unhook) => () =>
    {
        unhook();
        _reached.SetResult();
        return _open.Task;
    };
}
