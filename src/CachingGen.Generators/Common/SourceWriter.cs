using System;
using System.Text;

namespace CachingGen.Generators.Common
{
    /// <summary>
    /// An indentation-aware text writer for generated C#: four spaces per level, <c>\n</c> newlines, no trailing
    /// whitespace on empty lines. It never formats numbers; callers format with the invariant culture.
    /// </summary>
    internal sealed class SourceWriter
    {
        private const string IndentUnit = "    ";

        private readonly StringBuilder _builder = new StringBuilder(4096);
        private int _indent;
        private bool _atLineStart = true;

        /// <summary>The current indentation level.</summary>
        public int IndentLevel => _indent;

        /// <summary>Increases the indentation by one level.</summary>
        public void Indent() => _indent++;

        /// <summary>Decreases the indentation by one level.</summary>
        public void Outdent()
        {
            if (_indent == 0)
            {
                throw new InvalidOperationException("Outdent without a matching Indent.");
            }

            _indent--;
        }

        /// <summary>Writes <c>{</c> on its own line and indents.</summary>
        public void OpenBlock()
        {
            WriteLine("{");
            Indent();
        }

        /// <summary>Outdents and writes <c>}</c> followed by <paramref name="suffix"/> (for example <c>;</c>).</summary>
        public void CloseBlock(string suffix = "")
        {
            Outdent();
            WriteLine("}" + suffix);
        }

        /// <summary>Writes <paramref name="text"/> without a newline, indenting first if at the start of a line.</summary>
        public void Write(string text)
        {
            if (string.IsNullOrEmpty(text))
            {
                return;
            }

            WriteIndentIfNeeded();
            _builder.Append(text);
        }

        /// <summary>Writes <paramref name="line"/> and a newline. Embedded <c>\n</c>s start new, indented lines.</summary>
        public void WriteLine(string line)
        {
            if (string.IsNullOrEmpty(line))
            {
                WriteLine();
                return;
            }

            var start = 0;
            while (true)
            {
                var newline = line.IndexOf('\n', start);
                var end = newline < 0 ? line.Length : newline;
                var length = end - start;
                if (length > 0 && line[end - 1] == '\r')
                {
                    length--;
                }

                if (length > 0)
                {
                    WriteIndentIfNeeded();
                    _builder.Append(line, start, length);
                }

                _builder.Append('\n');
                _atLineStart = true;
                if (newline < 0)
                {
                    return;
                }

                start = newline + 1;
                if (start == line.Length)
                {
                    return;
                }
            }
        }

        /// <summary>Ends the current line (an empty line when already at the start of one).</summary>
        public void WriteLine()
        {
            _builder.Append('\n');
            _atLineStart = true;
        }

        /// <summary>The text written so far.</summary>
        public override string ToString() => _builder.ToString();

        private void WriteIndentIfNeeded()
        {
            if (!_atLineStart)
            {
                return;
            }

            for (var i = 0; i < _indent; i++)
            {
                _builder.Append(IndentUnit);
            }

            _atLineStart = false;
        }
    }
}
