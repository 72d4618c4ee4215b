using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Immutable;

namespace CachingGen.Generators.Common
{
    /// <summary>
    /// An immutable array with value equality, for incremental-generator models. <see cref="ImmutableArray{T}"/>
    /// compares by reference, which silently defeats pipeline caching; this type compares element by element.
    /// <c>default(EquatableArray&lt;T&gt;)</c> behaves as the empty array.
    /// </summary>
    internal readonly struct EquatableArray<T> : IEquatable<EquatableArray<T>>, IReadOnlyList<T>
        where T : IEquatable<T>
    {
        /// <summary>The empty array.</summary>
        public static readonly EquatableArray<T> Empty = new EquatableArray<T>(Array.Empty<T>());

        private readonly T[]? _items;

        /// <summary>Wraps <paramref name="items"/>; the caller must not mutate the array afterwards.</summary>
        public EquatableArray(T[] items)
        {
            _items = items;
        }

        /// <summary>Copies <paramref name="items"/>.</summary>
        public EquatableArray(ImmutableArray<T> items)
        {
            if (items.IsDefaultOrEmpty)
            {
                _items = null;
                return;
            }

            var copy = new T[items.Length];
            items.CopyTo(copy);
            _items = copy;
        }

        /// <summary>The number of elements.</summary>
        public int Count => _items?.Length ?? 0;

        /// <summary>The element at <paramref name="index"/>.</summary>
        public T this[int index]
        {
            get
            {
                if (_items is null)
                {
                    throw new ArgumentOutOfRangeException(nameof(index));
                }

                return _items[index];
            }
        }

        /// <summary>True when there are no elements.</summary>
        public bool IsEmpty => Count == 0;

        /// <summary>Copies the elements into an <see cref="ImmutableArray{T}"/>.</summary>
        public ImmutableArray<T> ToImmutableArray() => _items is null ? ImmutableArray<T>.Empty : ImmutableArray.Create(_items);

        /// <summary>Copies the elements into a new array.</summary>
        public T[] ToArray()
        {
            if (_items is null || _items.Length == 0)
            {
                return Array.Empty<T>();
            }

            var copy = new T[_items.Length];
            Array.Copy(_items, copy, _items.Length);
            return copy;
        }

        /// <inheritdoc/>
        public bool Equals(EquatableArray<T> other)
        {
            var left = _items ?? Array.Empty<T>();
            var right = other._items ?? Array.Empty<T>();
            if (ReferenceEquals(left, right))
            {
                return true;
            }

            if (left.Length != right.Length)
            {
                return false;
            }

            var comparer = EqualityComparer<T>.Default;
            for (var i = 0; i < left.Length; i++)
            {
                if (!comparer.Equals(left[i], right[i]))
                {
                    return false;
                }
            }

            return true;
        }

        /// <inheritdoc/>
        public override bool Equals(object? obj) => obj is EquatableArray<T> other && Equals(other);

        /// <inheritdoc/>
        public override int GetHashCode()
        {
            if (_items is null)
            {
                return 0;
            }

            var comparer = EqualityComparer<T>.Default;
            unchecked
            {
                var hash = 17;
                foreach (var item in _items)
                {
                    hash = (hash * 31) + (item is null ? 0 : comparer.GetHashCode(item));
                }

                return hash;
            }
        }

        /// <summary>A struct enumerator, so <c>foreach</c> does not allocate.</summary>
        public Enumerator GetEnumerator() => new Enumerator(_items ?? Array.Empty<T>());

        IEnumerator<T> IEnumerable<T>.GetEnumerator() => ((IEnumerable<T>)(_items ?? Array.Empty<T>())).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => (_items ?? Array.Empty<T>()).GetEnumerator();

        /// <summary>Value equality.</summary>
        public static bool operator ==(EquatableArray<T> left, EquatableArray<T> right) => left.Equals(right);

        /// <summary>Value inequality.</summary>
        public static bool operator !=(EquatableArray<T> left, EquatableArray<T> right) => !left.Equals(right);

        /// <summary>Enumerates the elements of an <see cref="EquatableArray{T}"/>.</summary>
        public struct Enumerator
        {
            private readonly T[] _items;
            private int _index;

            internal Enumerator(T[] items)
            {
                _items = items;
                _index = -1;
            }

            /// <summary>The current element.</summary>
            public T Current => _items[_index];

            /// <summary>Advances to the next element.</summary>
            public bool MoveNext() => ++_index < _items.Length;
        }
    }

    /// <summary>Conversions to <see cref="EquatableArray{T}"/>.</summary>
    internal static class EquatableArrayExtensions
    {
        /// <summary>Copies <paramref name="source"/> into an <see cref="EquatableArray{T}"/>.</summary>
        public static EquatableArray<T> ToEquatableArray<T>(this IEnumerable<T> source)
            where T : IEquatable<T>
        {
            if (source is null)
            {
                return EquatableArray<T>.Empty;
            }

            var items = new List<T>(source);
            return items.Count == 0 ? EquatableArray<T>.Empty : new EquatableArray<T>(items.ToArray());
        }

        /// <summary>Copies <paramref name="source"/> into an <see cref="EquatableArray{T}"/>.</summary>
        public static EquatableArray<T> ToEquatableArray<T>(this ImmutableArray<T> source)
            where T : IEquatable<T>
            => new EquatableArray<T>(source);
    }
}
