using StackExchange.Redis;

namespace Preferences.Replay;

/// <summary>What Redis itself costs on this machine, measured in the same run as the replay: one SET round trip and
/// one pipelined batch of SETs, each alone (one caller) and under the replay's concurrency, on a connection
/// configured like the store's (<c>UseRedis</c>: fail-fast, no abort on connect).</summary>
internal static class RawRedisProbe
{
    public static async Task<RawRedisResult> MeasureAsync(string configuration, string keyNamespace, int valueBytes, int workers, int batch, int rows)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        await using var connection = await ConnectionMultiplexer.ConnectAsync(options);
        var database = connection.GetDatabase();
        var value = new byte[valueBytes];
        new Random(valueBytes).NextBytes(value);
        var ttl = TimeSpan.FromSeconds(300);
        var keys = Enumerable.Range(0, Math.Max(rows, batch)).Select(i => (RedisKey)$"{keyNamespace}raw:{i}").ToArray();

        Task Set(int i) => database.StringSetAsync(keys[i % keys.Length], value, ttl);
        async Task SetBatch(int first)
        {
            var pipeline = database.CreateBatch();
            var sets = new Task[batch];
            for (var i = 0; i < batch; i++)
            {
                sets[i] = pipeline.StringSetAsync(keys[(first + i) % keys.Length], value, ttl);
            }

            pipeline.Execute();
            await Task.WhenAll(sets);
        }

        var singleCalls = Math.Clamp(rows / 10, 1_000, 10_000);
        var batchCalls = Math.Clamp(rows / batch, 20, 200);
        await Workers.RunAsync(Enumerable.Range(0, 500).ToArray(), 1, Set);
        await Workers.RunAsync(Enumerable.Range(0, 10).Select(i => i * batch).ToArray(), 1, SetBatch);

        var setAlone = LatencyStats.From(await Workers.RunAsync(Enumerable.Range(0, singleCalls).ToArray(), 1, Set));
        var setConcurrent = LatencyStats.From(await Workers.RunAsync(Enumerable.Range(0, Math.Min(rows, 50_000)).ToArray(), workers, Set));
        var batchAlone = LatencyStats.From(await Workers.RunAsync(Enumerable.Range(0, batchCalls).Select(i => i * batch).ToArray(), 1, SetBatch));
        var batchConcurrent = LatencyStats.From(await Workers.RunAsync(Enumerable.Range(0, Math.Max(rows / batch, workers)).Select(i => i * batch).ToArray(), workers, SetBatch));
        return new RawRedisResult(valueBytes, setAlone, setConcurrent, batchAlone, batchConcurrent);
    }
}

/// <summary>Raw Redis latencies: a SET and a pipelined batch, alone and under the replay's concurrency.</summary>
internal sealed record RawRedisResult(int ValueBytes, LatencyStats SetAlone, LatencyStats SetConcurrent, LatencyStats BatchAlone, LatencyStats BatchConcurrent);
