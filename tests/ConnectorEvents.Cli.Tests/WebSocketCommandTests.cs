using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Cli.Tests;

/// <summary><c>websocket</c> against a real server: frames, the server's close, refusals, Ctrl+C.</summary>
public sealed class WebSocketCommandTests : IAsyncLifetime
{
    private RunningServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await RunningServer.StartAsync();

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task<(Guid EnterpriseId, string IntegrationId, string ClientToken, string AccessToken)> IntegrationAsync()
    {
        var enterprise = await _server.PostAsync("/api/v1/enterprises", new { Name = "Socket Hotel" });
        var client = await _server.PostAsync("/api/v1/clients", new { Name = "Socket App" });
        var integration = await _server.PostAsync("/api/v1/integrations", new { EnterpriseId = (string)enterprise["Id"]!, ClientId = (string)client["Id"]! });
        return (Guid.Parse((string)enterprise["Id"]!), (string)integration["Id"]!, (string)client["ClientToken"]!, (string)integration["AccessToken"]!);
    }

    private (Task<int> Run, SharedWriter Output, SharedWriter Error) Start(CancellationToken stop, params string[] args)
    {
        var output = new SharedWriter();
        var error = new SharedWriter();
        var run = CliApp.RunAsync(["websocket", "--server", $"ws://{_server.BaseUri.Authority}", .. args], output, error, _ => null, stop);
        return (run, output, error);
    }

    [Fact]
    public async Task Websocket_prints_a_frame_after_an_event_is_posted_and_the_1008_close_when_the_integration_is_disabled()
    {
        var (enterpriseId, integrationId, clientToken, accessToken) = await IntegrationAsync();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (run, output, error) = Start(stop.Token, "--client-token", clientToken, "--access-token", accessToken, "--print-json");
        await SharedWriter.WaitUntilAsync(() => output.Text().Contains("Connected to", StringComparison.Ordinal) || run.IsCompleted, "the socket to connect");
        Assert.False(run.IsCompleted, error.Text());

        var resourceId = Guid.NewGuid();
        await _server.PostAsync($"/api/v1/enterprises/{enterpriseId}/events",
            new { Events = new object[] { new { Type = "Resource", Id = resourceId, State = "Dirty" } } }, expectedStatus: 202);
        await SharedWriter.WaitUntilAsync(() => output.Text().Contains($"Resource {resourceId}", StringComparison.Ordinal), "the frame");
        await _server.PostAsync($"/api/v1/integrations/{integrationId}/disable");
        var exit = await run.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

        var text = output.Text();
        Assert.Equal(ExitCodes.Closed, exit);
        Assert.Contains($"1 event: Resource {resourceId}", text, StringComparison.Ordinal);
        Assert.Contains("\"Type\": \"Resource\",", text, StringComparison.Ordinal);
        Assert.Contains("Closed by the server: 1008 The integration is Disabled.", text, StringComparison.Ordinal);
        Assert.DoesNotContain(clientToken, text + error.Text(), StringComparison.Ordinal);
        Assert.DoesNotContain(accessToken, text + error.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_token_is_one_line_and_exit_6_and_ctrl_c_exits_0()
    {
        var (_, _, clientToken, accessToken) = await IntegrationAsync();
        using var never = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (refusedRun, refusedOutput, refusedError) = Start(never.Token, "--client-token", clientToken, "--access-token", "not-the-token");
        var refused = await refusedRun.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

        Assert.Equal(ExitCodes.Unauthorized, refused);
        Assert.Single(refusedError.Text().Trim().Split('\n'));
        Assert.Contains("The server refused the WebSocket: Unauthorized.", refusedError.Text(), StringComparison.Ordinal);
        Assert.Contains("(401)", refusedError.Text(), StringComparison.Ordinal);
        Assert.DoesNotContain(clientToken, refusedOutput.Text() + refusedError.Text(), StringComparison.Ordinal);

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var environment = new Dictionary<string, string>
        {
            [WebSocketCommand.ClientTokenVariable] = clientToken,
            [WebSocketCommand.AccessTokenVariable] = accessToken,
        };
        var output = new SharedWriter();
        var run = CliApp.RunAsync(["websocket", "--server", _server.BaseUri.ToString()], output, new SharedWriter(),
            name => environment.GetValueOrDefault(name), stop.Token);
        await SharedWriter.WaitUntilAsync(() => output.Text().Contains("Connected to", StringComparison.Ordinal) || run.IsCompleted, "the socket to connect");
        await stop.CancelAsync();

        Assert.Equal(ExitCodes.Ok, await run.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken));
        Assert.Contains("Stopped after 0 frames.", output.Text(), StringComparison.Ordinal);
    }
}
