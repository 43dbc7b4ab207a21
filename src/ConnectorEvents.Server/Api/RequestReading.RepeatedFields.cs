using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace ConnectorEvents.Server.Api;

/// <summary>Fields given twice in one body.</summary>
public static partial class RequestReading
{
    /// <summary>
    /// A field given twice in one object, anywhere in the body. Field names are read without regard to case, so 'Name' and
    /// 'name' are the same field; which of two values won would depend on the reader (the last for a typed body, the first
    /// for an event), so neither does. Measured: 1,000 events take about as long as their parse (0.1 ms beside 0.16 ms on an
    /// idle machine) and allocate nothing.
    /// </summary>
    private static ApiProblemException? FindRepeatedField(JsonElement body) => RepeatedIn(body) is { } found ? Refusal(found) : null;

    /// <summary>The two spellings of a repeated field, and the way to it: names and indexes, innermost first.</summary>
    private sealed record Repetition(string Earlier, string Later, List<object> Trail);

    private static Repetition? RepeatedIn(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var count = element.GetPropertyCount();
                if ((count > 16 ? RepeatAmongMany(element, count) : RepeatAmongFew(element)) is { } pair)
                {
                    return new Repetition(pair.Earlier, pair.Later, []);
                }
                foreach (var property in element.EnumerateObject())
                {
                    if (RepeatedIn(property.Value) is { } inner)
                    {
                        inner.Trail.Add(property.Name);
                        return inner;
                    }
                }
                return null;
            case JsonValueKind.Array:
                var at = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (RepeatedIn(item) is { } inner)
                    {
                        inner.Trail.Add(at);
                        return inner;
                    }
                    at++;
                }
                return null;
            default:
                return null;
        }
    }

    /// <summary>Each name against those before it: the usual object has a handful of fields.</summary>
    private static (string Earlier, string Later)? RepeatAmongFew(JsonElement element)
    {
        var index = 0;
        foreach (var property in element.EnumerateObject())
        {
            var before = 0;
            foreach (var other in element.EnumerateObject())
            {
                if (before++ == index)
                {
                    break;
                }
                if (SameName(other, property))
                {
                    return (other.Name, property.Name);
                }
            }
            index++;
        }
        return null;
    }

    /// <summary>
    /// A wide object, by a set of its names: linear, at the price of a string per name. No route takes an object of more than
    /// a few dozen fields, so only a hostile body pays it: a 4 MiB object of 600,000 names costs 25 MB and about 6 times its
    /// parse (300 ms beside 55 ms on a loaded machine), once its sender has authenticated.
    /// </summary>
    private static (string Earlier, string Later)? RepeatAmongMany(JsonElement element, int count)
    {
        var seen = new Dictionary<string, string>(count, StringComparer.OrdinalIgnoreCase);
        foreach (var property in element.EnumerateObject())
        {
            var name = property.Name;
            if (!seen.TryAdd(name, name))
            {
                return (seen[name], name);
            }
        }
        return null;
    }

    /// <summary>Two field names the API reads as one: compared as they are written when both are plain ASCII, else decoded.</summary>
    private static bool SameName(JsonProperty first, JsonProperty second)
    {
        var a = JsonMarshal.GetRawUtf8PropertyName(first);
        var b = JsonMarshal.GetRawUtf8PropertyName(second);
        return IsPlain(a) && IsPlain(b)
            ? Ascii.EqualsIgnoreCase(a, b)
            : string.Equals(first.Name, second.Name, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A name written without escapes in ASCII: its bytes are its characters.</summary>
    private static bool IsPlain(ReadOnlySpan<byte> name) => !name.Contains((byte)'\\') && Ascii.IsValid(name);

    /// <summary>Names the field as the other refusals do (<c>Events[0].Value.Id</c>), cutting a long name short.</summary>
    private static ApiProblemException Refusal(Repetition found)
    {
        const int shown = 64;
        static string Cut(string name) => name.Length <= shown ? name : name[..shown] + "…";
        var field = new StringBuilder();
        foreach (var step in Enumerable.Reverse(found.Trail).Append(found.Earlier))
        {
            if (step is int index)
            {
                field.Append('[').Append(index).Append(']');
            }
            else
            {
                field.Append(field.Length == 0 ? "" : ".").Append(Cut((string)step));
            }
        }
        return ApiProblemException.Invalid(field.ToString(), string.Equals(found.Earlier, found.Later, StringComparison.Ordinal)
            ? "is given twice; send each field once."
            : $"is given twice, as '{Cut(found.Earlier)}' and '{Cut(found.Later)}'; field names are read without regard to case, "
                + "so send each field once.");
    }
}
