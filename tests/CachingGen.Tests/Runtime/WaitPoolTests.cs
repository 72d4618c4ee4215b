using CachingGen.Runtime;

namespace CachingGen.Tests.Runtime;

/// <summary>The pool of a hot command's waits is bounded by membership: renting and returning keep no count, and a
/// member whose use was abandoned makes room for a new one.</summary>
public sealed class WaitPoolTests
{
    [Fact]
    public void At_most_Capacity_waits_are_members_and_a_member_that_leaves_makes_room_for_one_more()
    {
        var pool = new WaitPool<object>();
        var joined = Enumerable.Range(0, WaitPool<object>.Capacity + 10).Count(_ => pool.Join() is not null);
        Assert.Equal(WaitPool<object>.Capacity, joined);
        Assert.Equal(WaitPool<object>.Capacity, pool.Members);

        pool.Leave();
        Assert.Same(pool, pool.Join());
        Assert.Null(pool.Join());
    }

    [Fact]
    public void Returned_members_are_rented_again_and_an_empty_pool_rents_nothing()
    {
        var pool = new WaitPool<object>();
        Assert.False(pool.TryRent(out _));

        var member = new object();
        Assert.Same(pool, pool.Join());
        pool.Return(member);
        Assert.True(pool.TryRent(out var rented));
        Assert.Same(member, rented);
        Assert.False(pool.TryRent(out _));
    }
}
