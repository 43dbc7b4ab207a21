using ConnectorEvents.Contracts;

namespace ConnectorEvents.Cli;

/// <summary>The webhook events each contract version documents, and helpful words when a name is not one of them.</summary>
internal static class EventCatalog
{
    public const string All = "all";

    /// <summary>The webhook samples of a version (Integration Webhooks, then General messages); WebSocket frames are not webhooks.</summary>
    public static IReadOnlyList<SamplePayload> Webhooks(ContractVersion version) =>
        [.. Samples.All(version).Where(sample => sample.Kind != PayloadKind.WebSocketFrame)];

    /// <summary>Resolves <paramref name="name"/> in <paramref name="version"/>, or explains why it cannot.</summary>
    public static IReadOnlyList<SamplePayload>? Resolve(ContractVersion version, string name, out string? error)
    {
        error = null;
        if (string.Equals(name, All, StringComparison.OrdinalIgnoreCase))
        {
            return Webhooks(version);
        }
        var sample = Samples.Find(version, name);
        if (sample is { Kind: not PayloadKind.WebSocketFrame })
        {
            return [sample];
        }
        if (sample is not null || WebSocketEventTypes.All.Contains(name, StringComparer.Ordinal))
        {
            error = $"'{name}' is a WebSocket event (pushed on /ws/connector), not a webhook; trigger sends webhooks only.";
            return null;
        }
        var from = ContractVersion.All.FirstOrDefault(v => Webhooks(v).Any(s => s.Name == name));
        if (from is not null)
        {
            var until = ContractVersion.All.Last(v => Webhooks(v).Any(s => s.Name == name));
            var span = until == ContractVersion.Latest ? $"from {from.Text} on" : $"in {from.Text} to {until.Text}";
            error = $"Contract version {version.Text} does not know '{name}'; it exists {span} (use --version {(version < from ? from : until).Text}).";
            return null;
        }
        var matches = CloseMatches(name);
        error = matches.Count > 0
            ? $"Unknown event '{name}'. Did you mean: {string.Join(", ", matches)}? ('trigger --list' shows every event.)"
            : $"Unknown event '{name}'. 'trigger --list --version {version.Text}' shows the events of that version.";
        return null;
    }

    /// <summary>Documented webhook names near <paramref name="name"/>: same letters in another case, containing it, or a few edits away.</summary>
    public static IReadOnlyList<string> CloseMatches(string name)
    {
        var names = ContractVersion.All.SelectMany(Webhooks).Select(s => s.Name).Distinct(StringComparer.Ordinal).ToList();
        var threshold = Math.Max(2, name.Length / 3);
        return [.. names
            .Select(candidate => (candidate, score: Score(name, candidate)))
            .Where(x => x.score <= threshold)
            .OrderBy(x => x.score).ThenBy(x => x.candidate, StringComparer.Ordinal)
            .Take(5)
            .Select(x => x.candidate)];
    }

    private static int Score(string name, string candidate)
    {
        if (string.Equals(name, candidate, StringComparison.OrdinalIgnoreCase))
        {
            return 0;
        }
        if (name.Length >= 4 && candidate.Contains(name, StringComparison.OrdinalIgnoreCase))
        {
            return 1;
        }
        return Distance(name.ToUpperInvariant(), candidate.ToUpperInvariant());
    }

    /// <summary>Levenshtein distance.</summary>
    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
