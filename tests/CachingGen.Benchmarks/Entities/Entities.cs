using CachingGen;
using MessagePack;

namespace CachingGen.Benchmarks.Entities;

// The entities carry MessagePack's own [MessagePackObject]/[Key] contract only so that MessagePack's StandardResolver
// (the dynamic, Reflection.Emit baseline) can serialize them too: our generator honours the same keys, so both write
// the same bytes, which SerializationBenchmarks checks before it measures anything.

/// <summary>The small record: the article's notification preference.</summary>
[MessagePackObject]
public sealed record Preference(
    [property: Key(0), CacheKey] long UserId,
    [property: Key(1)] string Channel,
    [property: Key(2)] bool Enabled,
    [property: Key(3)] long Version);

/// <summary>A record with lists and nested types.</summary>
[MessagePackObject]
public sealed record Order(
    [property: Key(0), CacheKey] long OrderId,
    [property: Key(1)] Customer Customer,
    [property: Key(2)] List<OrderLine> Lines,
    [property: Key(3)] DateTime PlacedAt,
    [property: Key(4)] OrderStatus Status,
    [property: Key(5)] IReadOnlyList<string> Tags);

/// <summary>The customer of an <see cref="Order"/>.</summary>
[MessagePackObject]
public sealed record Customer(
    [property: Key(0)] long CustomerId,
    [property: Key(1)] string Name,
    [property: Key(2)] Address Address);

/// <summary>A postal address.</summary>
[MessagePackObject]
public sealed record Address(
    [property: Key(0)] string Street,
    [property: Key(1)] string City,
    [property: Key(2)] string PostalCode,
    [property: Key(3)] string Country);

/// <summary>One line of an <see cref="Order"/>.</summary>
[MessagePackObject]
public sealed record OrderLine(
    [property: Key(0)] string Sku,
    [property: Key(1)] int Quantity,
    [property: Key(2)] decimal UnitPrice);

/// <summary>Where an order is.</summary>
public enum OrderStatus
{
    Placed,
    Paid,
    Shipped,
}

/// <summary>A document whose size is set by its number of sections: the 1 KiB and 10 KiB payloads.</summary>
[MessagePackObject]
public sealed record Document(
    [property: Key(0), CacheKey] long DocumentId,
    [property: Key(1)] string Title,
    [property: Key(2)] List<Section> Sections,
    [property: Key(3)] long Revision);

/// <summary>One section of a <see cref="Document"/>.</summary>
[MessagePackObject]
public sealed record Section(
    [property: Key(0)] int Number,
    [property: Key(1)] string Heading,
    [property: Key(2)] string Body,
    [property: Key(3)] double Score);

/// <summary>The sample repository of the decorator and Redis benchmarks: one read-through method, and a write-through
/// method the benchmarks use to put entries in place.</summary>
[CachedRepository(KeyPrefix = "pref")]
public interface IPreferenceRepository
{
    /// <summary>Read-through. Entries filled after a miss live 10 s, so the read-miss benchmarks do not pile up keys.</summary>
    [Cached(Ttl = 10)]
    ValueTask<Preference?> GetAsync(long userId, CancellationToken ct = default);

    /// <summary>Write-through; the entries of the read-hit benchmarks live an hour.</summary>
    [WriteThrough(Ttl = 3600)]
    Task SaveAsync(Preference preference, CancellationToken ct = default);
}

/// <summary>Gives the generator a reason to write formatters for <see cref="Order"/> and its members.</summary>
[CachedRepository(KeyPrefix = "order")]
public interface IOrderRepository
{
    /// <summary>Read-through.</summary>
    [Cached(Ttl = 300)]
    ValueTask<Order?> GetAsync(long orderId, CancellationToken ct = default);
}

/// <summary>Gives the generator a reason to write formatters for <see cref="Document"/> and <see cref="Section"/>.</summary>
[CachedRepository(KeyPrefix = "doc")]
public interface IDocumentRepository
{
    /// <summary>Read-through.</summary>
    [Cached(Ttl = 300)]
    ValueTask<Document?> GetAsync(long documentId, CancellationToken ct = default);
}
