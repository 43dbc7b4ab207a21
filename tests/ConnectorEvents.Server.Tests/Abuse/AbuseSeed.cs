using ConnectorEvents.Testing;

namespace ConnectorEvents.Server.Tests.Abuse;

/// <summary>
/// What a suite of refusals needs to exist first: an enterprise, a client with an Enabled integration and its first message,
/// a second client with a Disabled integration (for the WebSocket's 403), and a Reader API key; with the tokens the
/// WebSocket takes, the clients' signing secrets and the key (which no refusal may repeat).
/// </summary>
public sealed record AbuseSeed(
    AbuseIds Ids, string EnabledClientToken, string EnabledAccessToken, string OtherClientToken, string DisabledAccessToken,
    string SigningSecret, string OtherSigningSecret, string ApiKey)
{
    public static async Task<AbuseSeed> CreateAsync(RunningServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        var enterprise = await server.PostAsync("/api/v1/enterprises", new { Name = "Abuse Hotel" });
        var client = await server.PostAsync("/api/v1/clients", new { Name = "Abuse App" });
        var enterpriseId = Guid.Parse((string)enterprise["Id"]!);
        var clientId = Guid.Parse((string)client["Id"]!);
        var integration = await server.PostAsync("/api/v1/integrations", new { EnterpriseId = enterpriseId, ClientId = clientId });
        var integrationId = Guid.Parse((string)integration["Id"]!);
        var messages = await server.GetAsync($"/api/v1/messages?integrationId={integrationId}");
        var other = await server.PostAsync("/api/v1/clients", new { Name = "Other App" });
        var disabled = await server.PostAsync("/api/v1/integrations",
            new { EnterpriseId = enterpriseId, ClientId = Guid.Parse((string)other["Id"]!), IsEnabled = false });
        var apiKey = await server.PostAsync("/api/v1/api-keys", new { Name = "Abuse reader", Role = "Reader" });
        return new AbuseSeed(
            new AbuseIds(enterpriseId, clientId, integrationId, (string)messages["Messages"]![0]!["Id"]!, Guid.Parse((string)apiKey["Id"]!)),
            (string)client["ClientToken"]!, (string)integration["AccessToken"]!,
            (string)other["ClientToken"]!, (string)disabled["AccessToken"]!,
            (string)client[nameof(SigningSecret)]!, (string)other[nameof(SigningSecret)]!, (string)apiKey["Key"]!);
    }
}
