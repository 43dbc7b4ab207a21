using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Reflection.Metadata;
using System.Text;
using System.Xml.Linq;
using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Cli.Tests;

/// <summary>
/// The packages as integrators get them: <c>dotnet pack ConnectorEvents.slnx</c> gives one feed holding Contracts,
/// Receiver and the CLI, each with licence, readme, repository and symbols; the receiver installs from that feed
/// into a fresh <c>dotnet new web</c> app, which then receives a signed webhook.
/// </summary>
[Collection(PackingCollection.Name)]
public sealed class PackageFeedTests(PackedFeed feed) : IClassFixture<PackedFeed>
{
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private static readonly TimeSpan DotnetCommandLimit = TimeSpan.FromMinutes(5);
    private static readonly string[] Packages = ["ConnectorEvents.Contracts", "ConnectorEvents.Receiver", "ConnectorEvents.Cli"];

    // The SourceLink record of a portable PDB (its custom debug information kind).
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");

    [Fact]
    public void Each_package_carries_licence_readme_repository_and_symbols_with_source_link()
    {
        var files = Directory.GetFiles(feed.Directory).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Packages.Order(StringComparer.Ordinal).SelectMany(id => new[] { $"{id}.{feed.Version}.nupkg", $"{id}.{feed.Version}.snupkg" }), files);

        foreach (var id in Packages)
        {
            using var package = ZipFile.OpenRead(Path.Combine(feed.Directory, $"{id}.{feed.Version}.nupkg"));
            var metadata = Nuspec(package).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
            string Field(string name) => metadata.Elements().Single(e => e.Name.LocalName == name).Value;
            var license = metadata.Elements().Single(e => e.Name.LocalName == "license");
            Assert.Equal(("expression", "MIT"), ((string?)license.Attribute("type"), license.Value));
            Assert.Equal("README.md", Field("readme"));
            Assert.False(string.IsNullOrWhiteSpace(Field("description")), id);
            Assert.False(string.IsNullOrWhiteSpace(Field("tags")), id);
            var repository = metadata.Elements().Single(e => e.Name.LocalName == "repository");
            Assert.Equal("git", (string?)repository.Attribute("type"));
            Assert.Equal(PackedFeed.RepositoryUrl, (string?)repository.Attribute("url"));
            Assert.Matches("^[0-9a-f]{40}$", (string?)repository.Attribute("commit"));
            Assert.Contains("dotnet ", Text(package, "README.md"), StringComparison.Ordinal);
            Assert.Contains("MIT License", Text(package, "LICENSE"), StringComparison.Ordinal);

            // The symbols: the library's PDB, whose SourceLink points at the repository's sources at that commit.
            using var symbols = ZipFile.OpenRead(Path.Combine(feed.Directory, $"{id}.{feed.Version}.snupkg"));
            var pdbName = id == "ConnectorEvents.Cli" ? "connector-events.pdb" : id + ".pdb";
            var pdb = symbols.Entries.Single(e => e.Name == pdbName);
            var sourceLink = SourceLinkOf(pdb);
            Assert.Contains(
                $"https://raw.githubusercontent.com/connector-events/connector-events/{(string?)repository.Attribute("commit")}/*",
                sourceLink, StringComparison.Ordinal);
        }

        // The receiver depends on the Contracts package of the same feed: packing the set is what makes it installable.
        using var receiver = ZipFile.OpenRead(Path.Combine(feed.Directory, $"ConnectorEvents.Receiver.{feed.Version}.nupkg"));
        var dependency = Nuspec(receiver).Descendants().Single(e => e.Name.LocalName == "dependency"
            && (string?)e.Attribute("id") == "ConnectorEvents.Contracts");
        Assert.Equal(feed.Version, (string?)dependency.Attribute("version"));
    }

    [Fact]
    public async Task The_receiver_installs_into_a_fresh_web_app_from_the_feed_and_receives_a_signed_webhook()
    {
        var work = Directory.CreateTempSubdirectory("ce-receiver-app-");
        try
        {
            var app = Path.Combine(work.FullName, "HotelApp");
            // A package folder of its own: a 0.1.0 cached by an earlier run is never taken instead of this feed's.
            var environment = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = Path.Combine(work.FullName, "packages") };
            await Dotnet(work.FullName, environment, "new", "web", "--name", "HotelApp", "--output", app, "--no-restore");
            // The local feed beside the machine's own sources, as the README says to add it.
            await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="connector-events" value="{feed.Directory}" />
                  </packageSources>
                </configuration>
                """, TestContext.Current.CancellationToken);
            await Dotnet(app, environment, "add", "package", "ConnectorEvents.Receiver", "--version", feed.Version);
            // The README's snippet, with a handler that says what it got.
            await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), """
                using ConnectorEvents.Receiver;

                var builder = WebApplication.CreateBuilder(args);
                builder.Services.AddConnectorEventsReceiver(builder.Configuration.GetSection("Webhooks"), options =>
                {
                    options.OnIntegrationCreated((evt, ct) =>
                    {
                        Console.WriteLine($"handled {evt.WebhookId}: {evt.Data.Enterprise.Name} connected {evt.Data.Integration.Name}");
                        return Task.CompletedTask;
                    });
                });
                var app = builder.Build();
                app.MapConnectorWebhooks("/webhooks");
                app.Run();
                """, TestContext.Current.CancellationToken);
            await Dotnet(app, environment, "build", "-c", "Release");
            var dll = Path.Combine(app, "bin", "Release", "net10.0", "HotelApp.dll");

            // Without a secret the app stops at start, naming the setting.
            var port = ServerProcess.FreePort();
            var settings = new Dictionary<string, string?>
            {
                ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
            };
            await using (var unconfigured = ChildProcess.Start(ChildProcess.Dotnet, [dll], app, settings))
            {
                Assert.NotEqual(0, await unconfigured.WaitForExitAsync(TimeSpan.FromSeconds(60)));
                Assert.Contains("Webhooks:SigningSecrets is not set", unconfigured.Output, StringComparison.Ordinal);
            }

            settings["Webhooks__SigningSecrets__0"] = Secret;
            settings["Webhooks__UrlToken"] = "t0k3n";
            await using var running = ChildProcess.Start(ChildProcess.Dotnet, [dll], app, settings);
            await running.WaitForOutputAsync("Now listening on", TimeSpan.FromSeconds(60));
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            var body = Samples.Find(ContractVersion.Latest, IntegrationActions.Created)!.Body;

            using var badSignature = await PostAsync(http, body, "msg_bad", WebhookSigner.NewSecret(), "?Token=t0k3n");
            using var noToken = await PostAsync(http, body, "msg_notoken", Secret, "");
            using var good = await PostAsync(http, body, "msg_good", Secret, "?Token=t0k3n");
            Assert.Equal(HttpStatusCode.Unauthorized, badSignature.StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
            Assert.Equal(HttpStatusCode.OK, good.StatusCode);
            await running.WaitForOutputAsync("handled msg_good: ", TimeSpan.FromSeconds(10));
            Assert.DoesNotContain("handled msg_bad", running.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("handled msg_notoken", running.Output, StringComparison.Ordinal);
            Assert.Equal(0, await running.StopAsync(TimeSpan.FromSeconds(20)));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient http, byte[] body, string id, string secret, string query)
    {
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks" + query) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("webhook-signature", WebhookSigner.Sign([SigningKey.Parse(secret)], id, timestamp, body));
        return await http.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private static async Task Dotnet(string directory, IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var (exitCode, output) = await ChildProcess.RunAsync(ChildProcess.Dotnet, args, directory, DotnetCommandLimit, environment);
        Assert.True(exitCode == 0, $"dotnet {string.Join(' ', args)} exited {exitCode}:\n{output}");
    }

    private static XDocument Nuspec(ZipArchive package)
    {
        using var stream = package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        return XDocument.Load(stream);
    }

    private static string Text(ZipArchive package, string name)
    {
        using var reader = new StreamReader(package.GetEntry(name)?.Open() ?? throw new InvalidOperationException($"No {name} in the package."));
        return reader.ReadToEnd();
    }

    private static string SourceLinkOf(ZipArchiveEntry pdb)
    {
        using var copy = new MemoryStream();
        using (var stream = pdb.Open())
        {
            stream.CopyTo(copy);
        }
        copy.Position = 0;
        using var provider = MetadataReaderProvider.FromPortablePdbStream(copy);
        var reader = provider.GetMetadataReader();
        var record = reader.CustomDebugInformation.Select(reader.GetCustomDebugInformation)
            .Single(info => reader.GetGuid(info.Kind) == SourceLinkKind);
        return Encoding.UTF8.GetString(reader.GetBlobBytes(record.Value));
    }
}

/// <summary>Test classes that pack: one at a time, since packing the CLI writes its obj and publish folders.</summary>
public static class PackingCollection
{
    public const string Name = "Packing";
}

/// <summary>
/// <c>dotnet pack ConnectorEvents.slnx --no-build -o &lt;temp&gt;</c> once for the class: the three packages the test
/// project's build already compiled, into a folder of their own.
/// </summary>
public sealed class PackedFeed : IAsyncLifetime
{
    public const string RepositoryUrl = "https://github.com/connector-events/connector-events";

#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private readonly DirectoryInfo _work = System.IO.Directory.CreateTempSubdirectory("ce-feed-");

    public string Directory => Path.Combine(_work.FullName, "nupkg");

    /// <summary>The packages' version, as the build set it (read from the Contracts package's file name).</summary>
    public string Version { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        var (exitCode, output) = await ChildProcess.RunAsync(ChildProcess.Dotnet,
            ["pack", Path.Combine(Repository.Root, "ConnectorEvents.slnx"), "-c", Configuration, "--no-build", "-o", Directory],
            _work.FullName, TimeSpan.FromMinutes(5));
        Assert.True(exitCode == 0, $"dotnet pack exited {exitCode}:\n{output}");
        var contracts = Path.GetFileName(Assert.Single(System.IO.Directory.GetFiles(Directory, "ConnectorEvents.Contracts.*.nupkg")));
        Version = contracts["ConnectorEvents.Contracts.".Length..^".nupkg".Length];
    }

    public ValueTask DisposeAsync()
    {
        _work.Delete(recursive: true);
        return ValueTask.CompletedTask;
    }

}
