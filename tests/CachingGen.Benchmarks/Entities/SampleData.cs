using System.Text.Json.Serialization;

namespace CachingGen.Benchmarks.Entities;

/// <summary>The payloads every serializer and cache is measured with.</summary>
public static class SampleData
{
    public static Preference Preference(long userId) => new(userId, "email", true, 7);

    public static Order Order() => new(
        OrderId: 1_000_042,
        Customer: new Customer(77, "Ada Lovelace", new Address("12 Analytical Row", "London", "NW1 6XE", "GB")),
        Lines:
        [
            new OrderLine("SKU-1001", 2, 19.99m),
            new OrderLine("SKU-2002", 1, 149.50m),
            new OrderLine("SKU-3003", 5, 3.25m),
        ],
        PlacedAt: new DateTime(2026, 11, 26, 12, 0, 0, DateTimeKind.Utc),
        Status: OrderStatus.Paid,
        Tags: ["gift", "express"]);

    /// <summary>A document whose MessagePack form is close to <paramref name="approximateBytes"/>.</summary>
    public static Document Document(int approximateBytes)
    {
        // One section is ~ 100 bytes of MessagePack (80 characters of body, a heading, an int and a double).
        var sections = new List<Section>();
        for (var i = 0; sections.Count * 100 + 40 < approximateBytes; i++)
        {
            sections.Add(new Section(i, "Section " + i, new string((char)('a' + (i % 26)), 70) + " paragraph", i * 0.5));
        }

        return new Document(9001, "Benchmark document", sections, 3);
    }
}

/// <summary>System.Text.Json's source-generated contract for the same entities.</summary>
[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Default)]
[JsonSerializable(typeof(Preference))]
[JsonSerializable(typeof(Order))]
[JsonSerializable(typeof(Document))]
internal sealed partial class BenchmarkJsonContext : JsonSerializerContext
{
}
