using System.Text;
using System.Text.Json;

namespace ConnectorEvents.Core.Security;

/// <summary>
/// A receiver's answer is stored with its attempt (its first KiB), and some receivers echo what they got: the request
/// line with its <c>?Token=</c>, or the body with its access token. Before the answer is kept, every secret the request
/// carried is cut out of it, so what an attempt records holds no more than the request's redacted URL.
/// </summary>
public static class EchoedSecrets
{
    public const string Mark = "[redacted]";

    /// <summary>
    /// <paramref name="answer"/> without the values of the <paramref name="urls"/>' queries (raw and decoded: the first URL
    /// and a redirect's) and of the tokens in <paramref name="body"/> (<see cref="TokenBearingMessages.Masked"/>'s properties).
    /// </summary>
    public static string Conceal(string answer, ReadOnlySpan<byte> body, params ReadOnlySpan<Uri> urls)
    {
        ArgumentNullException.ThrowIfNull(answer);
        foreach (var secret in SecretsOf(body, urls))
        {
            answer = answer.Replace(secret, Mark, StringComparison.Ordinal);
        }
        return answer;
    }

    private static IEnumerable<string> SecretsOf(ReadOnlySpan<byte> body, ReadOnlySpan<Uri> urls)
    {
        var secrets = new List<string>();
        foreach (var url in urls)
        {
            foreach (var pair in url.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var value = pair[(pair.IndexOf('=', StringComparison.Ordinal) + 1)..];
                if (value.Length > 0)
                {
                    secrets.Add(value);
                    secrets.Add(Uri.UnescapeDataString(value));
                }
            }
        }
        if (body.IndexOf("\"AccessToken\""u8) >= 0 || body.IndexOf("\"ApiKey\""u8) >= 0)
        {
            var reader = new Utf8JsonReader(body);
            try
            {
                while (reader.Read())
                {
                    if (reader.TokenType == JsonTokenType.PropertyName && (reader.ValueTextEquals("AccessToken"u8) || reader.ValueTextEquals("ApiKey"u8))
                        && reader.Read() && reader.TokenType == JsonTokenType.String && reader.GetString() is { Length: > 0 } token)
                    {
                        secrets.Add(token);
                    }
                }
            }
            catch (JsonException)
            {
                // The server wrote the body; a body it cannot read has no token to look for.
            }
        }
        // Longest first: a value that contains another is cut whole.
        return secrets.Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length);
    }
}
