using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ConnectorEvents.Cli;

/// <summary>
/// <c>trigger --override Path=Value</c>: sets one value of a JSON body. The path names properties separated by dots,
/// each optionally followed by array indexes (<c>Data.Enterprise.Name</c>, <c>Events[0].Value.Id</c>); it must name a
/// value the body has (property names match exactly first, then ignoring case). The value is JSON when it parses as
/// JSON (<c>42</c>, <c>true</c>, <c>null</c>, <c>"42"</c>, <c>{"A":1}</c>), otherwise the text itself as a string.
/// </summary>
internal static class BodyOverrides
{
    private abstract record Step;

    private sealed record PropertyStep(string Name) : Step;

    private sealed record IndexStep(int Index) : Step;

    /// <summary>Applies every override in order to <paramref name="body"/>, or says which one cannot apply and why.</summary>
    public static bool TryApply(JsonNode body, IEnumerable<string> overrides, [NotNullWhen(false)] out string? error)
    {
        foreach (var text in overrides)
        {
            var equals = text.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                error = $"--override '{text}' is not Path=Value (e.g. Data.Enterprise.Name=Foo or Events[0].Value.Id=…).";
                return false;
            }
            var path = text[..equals].Trim();
            if (!TryParsePath(path, out var steps))
            {
                error = $"--override path '{path}' is not a path like Data.Enterprise.Name or Events[0].Value.Id.";
                return false;
            }
            if (!TrySet(body, steps, ValueOf(text[(equals + 1)..]), out var missing))
            {
                error = $"--override path '{path}' is not in the body: {missing}";
                return false;
            }
        }
        error = null;
        return true;
    }

    private static JsonNode? ValueOf(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return JsonValue.Create(text);
        }
    }

    private static bool TryParsePath(string path, out List<Step> steps)
    {
        steps = [];
        foreach (var segment in path.Split('.'))
        {
            var bracket = segment.IndexOf('[', StringComparison.Ordinal);
            var name = bracket < 0 ? segment : segment[..bracket];
            if (segment.Length == 0)
            {
                return false;
            }
            if (name.Length > 0)
            {
                steps.Add(new PropertyStep(name));
            }
            var rest = bracket < 0 ? "" : segment[bracket..];
            while (rest.Length > 0)
            {
                var close = rest.IndexOf(']', StringComparison.Ordinal);
                if (rest[0] != '[' || close < 2
                    || !int.TryParse(rest[1..close], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    return false;
                }
                steps.Add(new IndexStep(index));
                rest = rest[(close + 1)..];
            }
        }
        return steps.Count > 0;
    }

    private static bool TrySet(JsonNode root, List<Step> steps, JsonNode? value, [NotNullWhen(false)] out string? missing)
    {
        JsonNode? node = root;
        var at = "the body";
        for (var i = 0; i < steps.Count; i++)
        {
            var last = i == steps.Count - 1;
            switch (steps[i], node)
            {
                case (PropertyStep property, JsonObject obj):
                    var name = obj.ContainsKey(property.Name)
                        ? property.Name
                        : obj.Select(p => p.Key).FirstOrDefault(k => string.Equals(k, property.Name, StringComparison.OrdinalIgnoreCase));
                    if (name is null)
                    {
                        missing = $"{at} has no property '{property.Name}' (it has {Describe(obj)}).";
                        return false;
                    }
                    if (last)
                    {
                        obj[name] = value;
                        break;
                    }
                    node = obj[name];
                    at = name;
                    break;
                case (IndexStep index, JsonArray array):
                    if (index.Index >= array.Count)
                    {
                        missing = string.Create(CultureInfo.InvariantCulture, $"{at} has {array.Count} item{(array.Count == 1 ? "" : "s")}, no [{index.Index}].");
                        return false;
                    }
                    if (last)
                    {
                        array[index.Index] = value;
                        break;
                    }
                    node = array[index.Index];
                    at = string.Create(CultureInfo.InvariantCulture, $"{at}[{index.Index}]");
                    break;
                case (PropertyStep property, _):
                    missing = $"{at} is {KindOf(node)}, not an object with '{property.Name}'.";
                    return false;
                default:
                    missing = $"{at} is {KindOf(node)}, not an array.";
                    return false;
            }
        }
        missing = null;
        return true;
    }

    private static string Describe(JsonObject obj) =>
        obj.Count == 0 ? "no properties" : string.Join(", ", obj.Select(p => p.Key));

    private static string KindOf(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "an array",
        _ => "a " + node.GetValueKind().ToString().ToLowerInvariant(),
    };
}
