using System.Text.Json;
using System.Text.Json.Nodes;
using ConnectorEvents.Contracts;

namespace ConnectorEvents.Core.Security;

/// <summary>
/// The messages whose body carries an integration's access token (<c>IntegrationCreated</c>'s <c>AccessToken</c>,
/// <c>IntegrationApiKeyCreated</c>'s <c>ApiKey</c>): storage keeps their bodies encrypted, and the API shows them masked.
/// </summary>
public static class TokenBearingMessages
{
    /// <summary>The event types, as an SQL list: <c>('IntegrationCreated', 'IntegrationApiKeyCreated')</c>.</summary>
    public const string SqlList = "('" + IntegrationActions.Created + "', '" + IntegrationActions.ApiKeyCreated + "')";

    public static bool Includes(string eventType) =>
        eventType is IntegrationActions.Created or IntegrationActions.ApiKeyCreated;

    /// <summary>
    /// The body with every token in it (an <c>AccessToken</c> or <c>ApiKey</c> property, wherever a contract version puts
    /// it) cut to its <see cref="TokenDigest.PrefixOf"/>: how the body is shown after the moment the token was issued.
    /// </summary>
    public static JsonNode? Masked(ReadOnlySpan<byte> body)
    {
        var node = JsonNode.Parse(body);
        Mask(node);
        return node;
    }

    private static void Mask(JsonNode? node)
    {
        if (node is not JsonObject fields)
        {
            return;
        }
        foreach (var (name, value) in fields.ToArray())
        {
            if (name is "AccessToken" or "ApiKey" && value?.GetValueKind() == JsonValueKind.String)
            {
                fields[name] = TokenDigest.PrefixOf(value.GetValue<string>());
            }
            else
            {
                Mask(value);
            }
        }
    }
}
