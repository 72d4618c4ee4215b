using System.Diagnostics;
using CachingGen.Benchmarks.Infrastructure;

namespace CachingGen.Benchmarks.Tests;

/// <summary>The stampede benchmarks' stand-in for a database round trip: it takes at least its latency, replies as a
/// socket would (the caller goes on on the thread pool, not on the thread that keeps time), and leaves when cancelled.</summary>
public sealed class SimulatedRoundTripTests
{
    [Fact]
    public async Task Calls_take_at_least_the_latency_even_when_made_together()
    {
        var latency = TimeSpan.FromMilliseconds(30);
        using var roundTrip = new SimulatedRoundTrip(latency);
        var started = Stopwatch.GetTimestamp();
        var calls = Enumerable.Range(0, 3).Select(_ => TimedAsync(roundTrip)).ToArray();
        foreach (var elapsed in await Task.WhenAll(calls))
        {
            Assert.True(elapsed >= latency, $"A call ended after {elapsed.TotalMilliseconds:0.00} ms, before its {latency.TotalMilliseconds} ms latency.");
        }

        Assert.True(Stopwatch.GetElapsedTime(started) >= latency);

        static async Task<TimeSpan> TimedAsync(SimulatedRoundTrip roundTrip)
        {
            var start = Stopwatch.GetTimestamp();
            await roundTrip.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            return Stopwatch.GetElapsedTime(start);
        }
    }

    [Fact]
    public async Task The_caller_goes_on_off_the_thread_that_keeps_time()
    {
        using var roundTrip = new SimulatedRoundTrip(TimeSpan.FromMilliseconds(1));
        var threads = await ThreadsGoingOnAsync(roundTrip);
        Assert.Equal(20, threads.Count);
        Assert.DoesNotContain(SimulatedRoundTrip.ThreadName, threads);

        static async Task<List<string?>> ThreadsGoingOnAsync(SimulatedRoundTrip roundTrip)
        {
            var threads = new List<string?>();
            for (var i = 0; i < 20; i++)
            {
                // ConfigureAwait(false): the continuation would run on the completing thread if the reply ran it inline.
                await roundTrip.WaitAsync(CancellationToken.None).ConfigureAwait(false);
                threads.Add(Thread.CurrentThread.Name);
            }

            return threads;
        }
    }

    [Fact]
    public async Task A_cancelled_call_leaves_and_the_next_call_is_still_served()
    {
        using var roundTrip = new SimulatedRoundTrip(TimeSpan.FromMilliseconds(200));
        using var cancellation = new CancellationTokenSource();
        var call = roundTrip.WaitAsync(cancellation.Token);
        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        await roundTrip.WaitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void A_disposed_round_trip_refuses_calls()
    {
        var roundTrip = new SimulatedRoundTrip(TimeSpan.FromMilliseconds(1));
        roundTrip.Dispose();
        Assert.ThrowsAny<InvalidOperationException>(() => { _ = roundTrip.WaitAsync(CancellationToken.None); });
    }

    [Fact]
    public void A_latency_must_be_positive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SimulatedRoundTrip(TimeSpan.Zero));
    }
}
