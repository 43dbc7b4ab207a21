using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using Microsoft.AspNetCore.Http;
using ConnectorEvents.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit;

namespace ConnectorEvents.Server.Tests.Abuse;

/// <summary>
/// Whoever reads the database files (a backup, a stolen disk, another user of the machine) finds no secret in them: the
/// files are the owner's alone, tokens and keys are kept as hashes, URLs, signing secrets and bodies that carry a token
/// are encrypted. On PostgreSQL the same is checked in the cluster's own files.
/// </summary>
public sealed class SecretsAtRestTests
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public async Task The_database_files_hold_none_of_the_secrets_the_api_issued_or_was_given()
    {
        await using var sink = await WebhookSink.StartAsync();
        // A receiver that echoes what it got, as some error pages and debugging endpoints do: its answer is stored.
        sink.Respond = (context, received) =>
        {
            context.Response.StatusCode = 200;
            return context.Response.WriteAsync($"You sent {received.Path}{received.QueryString}: {received.BodyText}");
        };
        await using var server = await RunningServer.StartAsync();
        var secrets = new List<string>();
        // Unique, not secret: the control that shows the search reads what the server wrote.
        var marker = "Secrets Hotel " + Guid.NewGuid().ToString("N");

        var urlToken = "url-token-" + Guid.NewGuid().ToString("N");
        var generalToken = "general-token-" + Guid.NewGuid().ToString("N");
        var enterprise = await server.PostAsync("/api/v1/enterprises", new { Name = marker });
        var client = await server.PostAsync("/api/v1/clients", new
        {
            Name = "Secrets App",
            IntegrationWebhookUrl = sink.Url("/hook") + "?Token=" + urlToken,
            GeneralWebhookUrl = sink.Url("/general") + "?Token=" + generalToken,
        });
        var clientId = (string)client["Id"]!;
        secrets.AddRange([urlToken, generalToken, (string)client["ClientToken"]!, (string)client["SigningSecret"]!]);
        var rotated = await server.PostAsync($"/api/v1/clients/{clientId}/rotate-secret");
        secrets.Add((string)rotated["SigningSecret"]!);
        var regeneratedClient = await server.PostAsync($"/api/v1/clients/{clientId}/regenerate-token");
        secrets.Add((string)regeneratedClient["ClientToken"]!);

        var integration = await server.PostAsync("/api/v1/integrations", new { EnterpriseId = (string)enterprise["Id"]!, ClientId = clientId });
        var integrationId = (string)integration["Id"]!;
        secrets.Add((string)integration["AccessToken"]!);
        var regenerated = await server.PostAsync($"/api/v1/integrations/{integrationId}/regenerate-access-token");
        secrets.Add((string)regenerated["AccessToken"]!);
        var apiKey = await server.PostAsync("/api/v1/api-keys", new { Name = "Secrets producer", Role = "Producer" });
        secrets.Add((string)apiKey["Key"]!);
        // An Ed25519 secret key is never shown: the test reads it through the server's own store, which decrypts it.
        var signer = await server.PostAsync("/api/v1/clients", new { Name = "Ed25519 App", SigningScheme = "Ed25519" });
        var ed25519Secret = server.Services.GetRequiredService<IConnectorStore>().ListSecrets(Guid.Parse((string)signer["Id"]!)).Single().Secret;
        Assert.StartsWith("whsk_", ed25519Secret, StringComparison.Ordinal);
        secrets.AddRange([ed25519Secret, ed25519Secret["whsk_".Length..]]);
        // The secrets in the raw forms a file could hold them in too: a signing secret's key bytes, base64 alone.
        secrets.AddRange(secrets.Where(s => s.StartsWith("whsec_", StringComparison.Ordinal)).Select(s => s["whsec_".Length..]).ToList());

        // The new client token opens a WebSocket: it is kept in a form that authenticates.
        using (var socket = new ClientWebSocket())
        {
            socket.Options.SetRequestHeader("Cookie", $"ClientToken={regeneratedClient["ClientToken"]}; AccessToken={regenerated["AccessToken"]}");
            await socket.ConnectAsync(new UriBuilder(server.BaseUri) { Scheme = "ws", Path = "/ws/connector" }.Uri, Delivery.Ct);
            Assert.Equal(WebSocketState.Open, socket.State);
        }
        // Delivered with the stored URL and secret, which the server could decrypt.
        await sink.WaitForAsync(2, Delivery.WaitLimit);
        Assert.All(sink.Received, r => Assert.Equal("?Token=" + urlToken, r.QueryString));
        Assert.Contains(sink.Received, r => r.BodyText.Contains((string)integration["AccessToken"]!, StringComparison.Ordinal));

        // The echo is kept with each attempt, with the secrets cut out.
        foreach (var message in (await server.GetAsync($"/api/v1/messages?integrationId={integrationId}"))["Messages"]!.AsArray())
        {
            var attempt = (await server.WaitForMessageAsync((string)message!["Id"]!, "Delivered"))["Attempts"]!.AsArray()[^1]!;
            var answer = (string)attempt["ResponseBody"]!;
            Assert.StartsWith("You sent /hook?Token=[redacted]: ", answer, StringComparison.Ordinal);
            Assert.Contains("\"[redacted]\"", answer, StringComparison.Ordinal);
            Assert.All(secrets, secret => Assert.DoesNotContain(secret, answer, StringComparison.Ordinal));
        }

        var files = await DatabaseFilesAsync(server);
        Assert.NotEmpty(files);
        Assert.True(files.Any(f => Contains(f, marker)), "The search found not even the enterprise's name: it reads the wrong files.");
        foreach (var secret in secrets)
        {
            var holding = files.Where(f => Contains(f, secret)).ToList();
            Assert.True(holding.Count == 0, $"A secret ({TokenDigest.PrefixOf(secret)}) is in the clear in {string.Join(", ", holding)}.");
        }
    }

    [Fact]
    public async Task The_data_folder_is_the_owners_alone_and_every_database_file_is_0600()
    {
        if (OperatingSystem.IsWindows() || RunningServer.StorageUnderTest != "Sqlite")
        {
            return; // file modes are the SQLite provider's: PostgreSQL keeps its own files 0600 in a 0700 folder
        }
        var folder = Path.Combine(Path.GetTempPath(), "ce-test-" + Guid.NewGuid().ToString("N"), "nested", "data");
        await using (var server = await RunningServer.StartAsync(dataDirectory: folder))
        {
            await server.SeedAsync("http://127.0.0.1:9/hook?Token=x");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
            var files = Directory.GetFiles(folder);
            Assert.Contains(files, f => f.EndsWith(".db-wal", StringComparison.Ordinal));
            Assert.Contains(files, f => f.EndsWith(".db-shm", StringComparison.Ordinal));
            foreach (var file in files)
            {
                Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(file));
            }
        }
        Directory.Delete(Path.GetDirectoryName(Path.GetDirectoryName(folder))!, recursive: true);
    }

    [Fact]
    public async Task Database_files_an_older_version_left_world_readable_are_made_0600_at_start()
    {
        if (OperatingSystem.IsWindows() || RunningServer.StorageUnderTest != "Sqlite")
        {
            return;
        }
        var folder = Path.Combine(Path.GetTempPath(), "ce-test-" + Guid.NewGuid().ToString("N"));
        await using (var first = await RunningServer.StartAsync(dataDirectory: folder))
        {
            await first.SeedAsync(null);
        }
        var readable = OwnerReadWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        foreach (var file in Directory.GetFiles(folder, "*.db*"))
        {
            File.SetUnixFileMode(file, readable);
        }
        await using (var second = await RunningServer.StartAsync(dataDirectory: folder))
        {
            foreach (var file in Directory.GetFiles(folder, "*.db*"))
            {
                Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(file));
            }
        }
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public async Task Tokens_are_shown_when_issued_and_only_by_their_prefix_afterwards_in_every_answer()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var server = await RunningServer.StartAsync();
        var enterprise = await server.PostAsync("/api/v1/enterprises", new { Name = "Prefix Hotel" });
        var client = await server.PostAsync("/api/v1/clients", new { Name = "Prefix App", IntegrationWebhookUrl = sink.Url() });
        var integration = await server.PostAsync("/api/v1/integrations", new { EnterpriseId = (string)enterprise["Id"]!, ClientId = (string)client["Id"]! });
        var regenerated = await server.PostAsync($"/api/v1/integrations/{integration["Id"]}/regenerate-access-token");
        string[] tokens = [(string)client["ClientToken"]!, (string)integration["AccessToken"]!, (string)regenerated["AccessToken"]!];
        await sink.WaitForAsync(2, Delivery.WaitLimit);

        var messages = await server.GetAsync($"/api/v1/messages?integrationId={integration["Id"]}");
        var answers = new List<JsonObject>
        {
            await server.GetAsync($"/api/v1/clients/{client["Id"]}"),
            await server.GetAsync("/api/v1/clients"),
            await server.GetAsync($"/api/v1/integrations/{integration["Id"]}"),
            await server.GetAsync("/api/v1/integrations"),
            messages,
        };
        foreach (var message in messages["Messages"]!.AsArray())
        {
            answers.Add(await server.GetAsync($"/api/v1/messages/{message!["Id"]}"));
        }
        foreach (var text in answers.Select(a => a.ToJsonString()))
        {
            Assert.All(tokens, token => Assert.DoesNotContain(token, text, StringComparison.Ordinal));
        }
        // The bodies as sent carried the tokens; the API shows each by its prefix, which tells the new token from the old.
        var created = await server.MessageAsync((string)messages["Messages"]![1]!["Id"]!);
        Assert.Equal(TokenDigest.PrefixOf(tokens[1]), (string)created["Body"]!["Data"]!["AccessToken"]!);
        var apiKeyCreated = await server.MessageAsync((string)messages["Messages"]![0]!["Id"]!);
        Assert.Equal(TokenDigest.PrefixOf(tokens[2]), (string)apiKeyCreated["Body"]!["Data"]!["ApiKey"]!);
        Assert.NotEqual(TokenDigest.PrefixOf(tokens[1]), TokenDigest.PrefixOf(tokens[2]));
        Assert.Equal(TokenDigest.PrefixOf(tokens[2]), (string)answers[2]["AccessTokenPrefix"]!);
        Assert.Contains(sink.Received, r => r.BodyText.Contains(tokens[2], StringComparison.Ordinal)); // sent in full
    }

    /// <summary>The files the server's database lives in: the SQLite file and its log, or the PostgreSQL database and WAL.</summary>
    private static async Task<IReadOnlyList<string>> DatabaseFilesAsync(RunningServer server)
    {
        var connectionString = server.Services.GetRequiredService<IConfiguration>()["ConnectionStrings:Postgres"];
        if (connectionString is null)
        {
            return Directory.GetFiles(server.DataDirectory);
        }
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Delivery.Ct);
        await using (var checkpoint = new NpgsqlCommand("CHECKPOINT", connection))
        {
            await checkpoint.ExecuteNonQueryAsync(Delivery.Ct); // the table files, not only the WAL, hold what was written
        }
        await using var where = new NpgsqlCommand(
            "SELECT current_setting('data_directory'), (SELECT oid FROM pg_database WHERE datname = current_database())", connection);
        await using var reader = await where.ExecuteReaderAsync(Delivery.Ct);
        await reader.ReadAsync(Delivery.Ct);
        var data = reader.GetString(0);
        var database = reader.GetFieldValue<uint>(1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return [.. Directory.GetFiles(Path.Combine(data, "base", database)), .. Directory.GetFiles(Path.Combine(data, "pg_wal"))];
    }

    private static bool Contains(string file, string text)
    {
        byte[] content;
        try
        {
            content = File.ReadAllBytes(file);
        }
        catch (FileNotFoundException)
        {
            return false; // PostgreSQL removed it meanwhile (a relation cache file, an old WAL segment)
        }
        return content.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;
    }
}
