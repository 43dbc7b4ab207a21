using System.Text;
using System.Text.Json.Nodes;

namespace ConnectorEvents.Server.Tests.Abuse;

/// <summary>A text value with odd Unicode: its JSON bytes (possibly not valid UTF-8), and whether it may be accepted.</summary>
public sealed record OddText(string Case, byte[] Json, bool MustReject, string? Decoded, bool IsControl = false);

/// <summary>The hand-written knowledge the OpenAPI document does not carry: valid bodies, required fields, where text goes.</summary>
public sealed record BodyRules(
    Func<AbuseIds, JsonObject> ValidBody,
    IReadOnlyList<string> Required,
    IReadOnlyList<object> TextField,
    bool TextCanBeValid,
    string? EchoedTextField,
    bool TextRefusesControl = true);

/// <summary>Real ids of what the test created, to fill path parameters and bodies.</summary>
public sealed record AbuseIds(Guid EnterpriseId, Guid ClientId, Guid IntegrationId, string MessageId, Guid ApiKeyId);

public static class AbuseCases
{
    /// <summary>Operations known when this suite was written; discovery must find at least these.</summary>
    public static readonly string[] KnownOperations =
    [
        "CreateEnterprise", "ListEnterprises", "GetEnterprise", "CreateService", "ListServices",
        "CreateClient", "ListClients", "GetClient", "UpdateClient", "RotateClientSecret",
        "CreateIntegration", "ListIntegrations", "GetIntegration", "UpdateIntegrationSubscriptions",
        "EnableIntegration", "DisableIntegration", "CancelIntegration", "ReinstateIntegration", "RegenerateAccessToken", "DeleteIntegration",
        "ListMessages", "GetMessage", "RetryMessage", "GetCluster", "IngestEvents", "ConnectWebSocket",
        "RegenerateClientToken", "CreateApiKey", "ListApiKeys", "DeleteApiKey", "GetSigningPublicKeys",
        "GetClientHealth", "RecoverClientMessages", "RecoverIntegrationMessages",
    ];

    /// <summary>Each operation with a body; a new one fails the suite until it is described here.</summary>
    public static readonly Dictionary<string, BodyRules> Bodies = new(StringComparer.Ordinal)
    {
        ["CreateEnterprise"] = new(_ => new JsonObject { ["Name"] = "Abuse Hotel" }, ["Name"], ["Name"], true, "Name"),
        ["CreateService"] = new(_ => new JsonObject { ["Name"] = "Abuse Spa" }, ["Name"], ["Name"], true, "Name"),
        ["CreateClient"] = new(_ => new JsonObject { ["Name"] = "Abuse App" }, ["Name"], ["Name"], true, "Name"),
        ["UpdateClient"] = new(_ => new JsonObject { ["Name"] = "Abuse App" }, ["Name", "ContractVersion"], ["Name"], true, "Name"),
        ["CreateIntegration"] = new(ids => new JsonObject
        {
            ["EnterpriseId"] = ids.EnterpriseId.ToString(),
            ["ClientId"] = ids.ClientId.ToString(),
            ["Requestor"] = new JsonObject { ["Name"] = "Jane Doe", ["Email"] = "jane@example.com" },
        }, ["EnterpriseId", "ClientId"], ["Name"], true, "Name"),
        ["CreateApiKey"] = new(_ => new JsonObject { ["Name"] = "Abuse key", ["Role"] = "Reader" }, ["Name", "Role"], ["Name"], true, "Name"),
        // Null is meaningful for both lists (all events), so nothing is required here.
        ["UpdateIntegrationSubscriptions"] = new(_ => new JsonObject
        {
            ["GeneralEvents"] = new JsonArray("CustomerAdded"),
            ["WebSocketEvents"] = new JsonArray("Resource"),
        }, [], ["GeneralEvents", 0], false, null),
        ["IngestEvents"] = new(_ => new JsonObject
        {
            ["Events"] = new JsonArray(new JsonObject
            {
                ["Type"] = "Resource",
                ["Id"] = "5ee074b1-6c86-48e8-915f-c7aa4702086f",
                ["State"] = "Dirty",
            }),
        }, ["Events"], ["Events", 0, "State"], true, null, TextRefusesControl: false),
        ["RecoverClientMessages"] = new(_ => Recovery(), ["Since"], ["Channel"], false, null),
        ["RecoverIntegrationMessages"] = new(_ => Recovery(), ["Since"], ["Channel"], false, null),
    };

    private static JsonObject Recovery() => new() { ["Since"] = "2026-01-01T00:00:00Z", ["Channel"] = "Integration" };

    public static IEnumerable<(string Case, string Header)> BadAuthorizations(string adminKey, string clientToken, string signingSecret,
        string accessToken)
    {
        yield return ("no Authorization", "");
        yield return ("'Bearer' alone", "Bearer");
        yield return ("'Bearer ' with an empty key", "Bearer ");
        yield return ("a wrong key", "Bearer wrong-key-wrong-key-wrong-key");
        yield return ("Basic with the admin key", "Basic " + Convert.ToBase64String(Encoding.ASCII.GetBytes("admin:" + adminKey)));
        yield return ("the admin key without a scheme", adminKey);
        yield return ("the admin key with a suffix", "Bearer " + adminKey + "x");
        yield return ("the admin key truncated", "Bearer " + adminKey[..^1]);
        yield return ("the admin key twice", $"Bearer {adminKey},Bearer {adminKey}");
        yield return ("a client token", "Bearer " + clientToken);
        yield return ("a signing secret", "Bearer " + signingSecret);
        yield return ("an access token", "Bearer " + accessToken);
        yield return ("a 10 KB key", "Bearer " + new string('k', 10 * 1024));
    }

    public static IEnumerable<(string Case, string Segment)> BadIds(string otherKindId)
    {
        yield return ("not a GUID", "not-a-guid");
        yield return ("an unknown GUID", Guid.NewGuid().ToString());
        yield return ("another kind's id", otherKindId);
        yield return ("4,000 characters", new string('7', 4000));
        yield return ("..%2F traversal", "..%2F..%2Fhealthz%2Fready");
        yield return ("encoded NUL", "%00");
        yield return ("encoded lone surrogate (invalid UTF-8)", "%ED%A0%80");
        yield return ("encoded invalid UTF-8", "%FF%FE");
        yield return ("Unicode (emoji, RTL override)", Uri.EscapeDataString("h\u00f4tel\U0001F3E8\u202Eevil"));
        yield return ("a quote and angle brackets", Uri.EscapeDataString("'\"<script>"));
    }

    public static readonly string[] BadQueryValues =
    [
        "abc", "-1", "1.5", "true", "99999999999999999999999", "%00", "%ED%A0%80", "%5B%5D", "%7B%7D", new string('9', 3000),
    ];

    public static IEnumerable<(string Case, byte[] Body)> MalformedBodies(string validBody)
    {
        static byte[] U(string s) => Encoding.UTF8.GetBytes(s);
        yield return ("truncated", U(validBody[..(validBody.Length / 2)]));
        yield return ("trailing garbage", U(validBody + " xyz"));
        yield return ("two objects", U(validBody + validBody));
        yield return ("not JSON", U("hello world"));
        yield return ("empty body", []);
        yield return ("whitespace only", U("  \r\n "));
        yield return ("null", U("null"));
        yield return ("an array", U("[" + validBody + "]"));
        yield return ("a string", U("\"text\""));
        yield return ("a number", U("42"));
        yield return ("single quotes", U(validBody.Replace('"', '\'')));
        yield return ("a comment", U("{/* c */" + validBody[1..]));
        yield return ("a trailing comma", U(validBody[..^1] + ",}"));
        yield return ("NaN", U("{\"Name\":NaN}"));
    }

    public static IEnumerable<(string Case, JsonNode? Value)> WrongValues(FieldKind kind)
    {
        var all = new (string, JsonNode?, FieldKind[])[]
        {
            ("a number", 42, [FieldKind.Text, FieldKind.Id, FieldKind.Boolean, FieldKind.List, FieldKind.Record]),
            ("a huge number", JsonNode.Parse("1e400"), [FieldKind.Text, FieldKind.Id, FieldKind.Number]),
            ("a bool", true, [FieldKind.Text, FieldKind.Id, FieldKind.Number, FieldKind.List, FieldKind.Record]),
            ("a string", "x", [FieldKind.Id, FieldKind.Boolean, FieldKind.Number, FieldKind.List, FieldKind.Record]),
            ("'true' as a string", "true", [FieldKind.Boolean]),
            ("an object", new JsonObject(), [FieldKind.Text, FieldKind.Id, FieldKind.Boolean, FieldKind.Number, FieldKind.List]),
            ("an array", new JsonArray(), [FieldKind.Text, FieldKind.Id, FieldKind.Boolean, FieldKind.Number, FieldKind.Record]),
            ("an empty string", "", [FieldKind.Id]),
        };
        return all.Where(v => v.Item3.Contains(kind)).Select(v => (v.Item1, v.Item2?.DeepClone()));
    }

    public static IEnumerable<OddText> OddTexts()
    {
        static OddText Escaped(string name, string jsonInside, bool reject, string? decoded) =>
            new(name, Encoding.UTF8.GetBytes("\"" + jsonInside + "\""), reject, decoded);
        static OddText Raw(string name, byte[] inside, bool reject, string? decoded) =>
            new(name, [(byte)'"', .. "Abuse "u8, .. inside, (byte)'"'], reject, decoded);
        yield return Escaped("escaped lone high surrogate", "Abuse \\ud800", true, null);
        yield return Escaped("escaped lone low surrogate", "Abuse \\udc00x", true, null);
        yield return Escaped("escaped reversed surrogate pair", "Abuse \\udfe8\\ud83c", true, null);
        yield return Escaped("escaped NUL", "Abuse \\u0000x", true, "Abuse \0x") with { IsControl = true };
        yield return Raw("raw invalid UTF-8", [0xFF, 0xFE, 0x41], true, null);
        yield return Raw("raw overlong UTF-8", [0xC0, 0xAF], true, null);
        yield return Raw("raw UTF-8 of a surrogate", [0xED, 0xA0, 0x80], true, null);
        yield return Raw("raw truncated UTF-8", [0xE2, 0x80], true, null);
        yield return Escaped("escaped RTL override", "Abuse \\u202Eevil", false, "Abuse \u202Eevil");
        yield return Raw("raw RTL override", [0xE2, 0x80, 0xAE, 0x61], false, "Abuse \u202Ea");
        yield return Escaped("escaped 4-byte emoji", "Abuse \\ud83c\\udfe8", false, "Abuse \U0001F3E8");
        yield return Raw("raw 4-byte emoji", [0xF0, 0x9F, 0x8F, 0xA8], false, "Abuse \U0001F3E8");
        yield return Escaped("escaped BOM inside", "Abuse \\uFEFF", false, "Abuse \uFEFF");
        yield return Escaped("escaped noncharacter U+FFFF", "Abuse \\uFFFF", false, "Abuse \uFFFF");
    }

    public static readonly string?[] WrongContentTypes =
    [
        null, "text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data; boundary=x",
        "application/jsonx", "text/json", "application/octet-stream",
    ];
}
