namespace CachingGen.Tests.Support;

/// <summary>Waits for a condition that other threads make true, by count of yields (not by time): the outcome never
/// depends on how fast the machine is, only a hang is bounded.</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string what, int maxRounds = 20_000)
    {
        for (var round = 0; round < maxRounds; round++)
        {
            if (condition())
            {
                return;
            }

            await Task.Delay(1);
        }

        Assert.Fail($"Timed out waiting for: {what}");
    }

    /// <summary>Advances fake time step by step until the task completes.</summary>
    public static async Task AdvanceUntilAsync(Microsoft.Extensions.Time.Testing.FakeTimeProvider time, Task task, TimeSpan step, int maxRounds = 5_000)
    {
        for (var round = 0; round < maxRounds && !task.IsCompleted; round++)
        {
            await Task.Delay(1);
            if (!task.IsCompleted)
            {
                time.Advance(step);
            }
        }

        Assert.True(task.IsCompleted, "The task did not complete.");
        await task;
    }
}
