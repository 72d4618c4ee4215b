using CachingGen.Runtime;

namespace CachingGen.Tests.Runtime;

/// <summary>A policy with an unusable time to live fails when it is built (a decorator's static field), never after a
/// database write has committed.</summary>
public sealed class PolicyTests
{
    public static TheoryData<TimeSpan> NotPositive => new() { TimeSpan.Zero, TimeSpan.FromSeconds(-1) };

    [Theory]
    [MemberData(nameof(NotPositive))]
    public void Every_policy_refuses_a_time_to_live_that_is_not_positive(TimeSpan ttl)
    {
        AssertNamed("TimeToLive", () => new ReadPolicy("GetAsync", ttl, null));
        AssertNamed("NullTimeToLive", () => new ReadPolicy("GetAsync", TimeSpan.FromSeconds(1), ttl));
        AssertNamed("TimeToLive", () => new WriteThroughPolicy("SaveAsync", ttl));
        AssertNamed("FillTimeToLive", () => new WriteAroundPolicy("MigrateAsync", ttl, Invalidate: true));
        AssertNamed("TimeToLive", () => new WriteBackPolicy("UpdateAsync", ttl));
    }

    [Fact]
    public void Positive_times_to_live_are_kept()
    {
        var read = new ReadPolicy("GetAsync", TimeSpan.FromSeconds(300), TimeSpan.FromSeconds(10));
        Assert.Equal(TimeSpan.FromSeconds(300), read.TimeToLive);
        Assert.Equal(TimeSpan.FromSeconds(10), read.NullTimeToLive);
        Assert.Null(new ReadPolicy("GetAsync", TimeSpan.FromSeconds(1), null).NullTimeToLive);
        Assert.Equal(TimeSpan.FromSeconds(30), new WriteAroundPolicy("MigrateAsync", TimeSpan.FromSeconds(30), Invalidate: false).FillTimeToLive);
        Assert.Equal(TimeSpan.FromSeconds(60), new WriteThroughPolicy("SaveAsync", TimeSpan.FromSeconds(60)).TimeToLive);
        Assert.Equal(TimeSpan.FromSeconds(90), new WriteBackPolicy("UpdateAsync", TimeSpan.FromSeconds(90)).TimeToLive);
    }

    private static void AssertNamed(string parameter, Action build)
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(build);
        Assert.Equal(parameter, exception.ParamName);
        Assert.Contains("must be positive", exception.Message, StringComparison.Ordinal);
    }
}
