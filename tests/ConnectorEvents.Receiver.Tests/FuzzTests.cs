using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ConnectorEvents.Contracts;
using Microsoft.Extensions.Logging;
using Xunit;

namespace ConnectorEvents.Receiver.Tests;

/// <summary>
/// Hostile bodies with valid signatures: the endpoint answers 200 or 400 to each, never 5xx, never throws, in bounded time.
/// </summary>
public sealed class FuzzTests
{
    private const int Count = 2000;

    [Fact]
    public async Task Mutated_and_random_bodies_with_valid_signatures_never_cause_a_5xx_or_an_unhandled_exception()
    {
        var random = new Random(20261123);
        var handled = 0;
        await using var app = await ReceiverApp.StartAsync(o =>
        {
            o.SigningSecrets.Add(ReceiverApp.Secret);
            o.MaxBodySize = 1024 * 1024;
            var recorder = new Recorder();
            recorder.RegisterAll(o);
            o.OnGeneralMessage((_, _) =>
            {
                Interlocked.Increment(ref handled);
                return Task.CompletedTask;
            });
        });
        var seeds = ContractVersion.All.SelectMany(Samples.All).Select(s => s.Body).ToArray();
        var statuses = new Dictionary<HttpStatusCode, int>();
        var clock = Stopwatch.StartNew();

        for (var i = 0; i < Count; i++)
        {
            var body = Mutate(random, seeds[random.Next(seeds.Length)]);
            using var response = await app.PostAsync(body);
            Assert.True((int)response.StatusCode < 500, $"Body #{i} answered {(int)response.StatusCode}: {Preview(body)}");
            Assert.Contains(response.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.BadRequest, HttpStatusCode.RequestEntityTooLarge });
            statuses[response.StatusCode] = statuses.GetValueOrDefault(response.StatusCode) + 1;
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(120), $"{Count} bodies took {clock.Elapsed}.");
        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.OK) > 50, "Some mutations should still be readable.");
        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.BadRequest) > 500, "Most mutations should be refused.");
        // No handler failure, no reader crash, nothing logged as an error by anyone.
        var crashes = app.Log.Entries.Where(e => e.Id.Id == 7).Select(e => e.Error?.GetType().Name + ": " + e.Error?.Message).Distinct();
        Assert.True(app.Log.Count(7) == 0, "The contract reader threw: " + string.Join(" | ", crashes));
        Assert.Equal(0, app.Log.Count(LogLevel.Error));
    }

    private static string Preview(byte[] body) => Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 300)));

    private static byte[] Mutate(Random random, byte[] seed)
    {
        switch (random.Next(8))
        {
            case 0: // truncation
                return seed[..random.Next(seed.Length)];
            case 1: // byte flips
            {
                var copy = (byte[])seed.Clone();
                for (var n = random.Next(1, 6); n > 0; n--)
                {
                    copy[random.Next(copy.Length)] = (byte)random.Next(256);
                }
                return copy;
            }
            case 2: // a random JSON value
                return Encoding.UTF8.GetBytes(RandomValue(random, 4)?.ToJsonString() ?? "null");
            case 3: // deep nesting, inside and outside the contract's parts
            {
                var depth = random.Next(10, 5000);
                var nested = new string('[', depth) + new string(']', depth);
                return Encoding.UTF8.GetBytes(random.Next(3) switch
                {
                    0 => nested,
                    1 => $"{{\"Action\":\"IntegrationCreated\",\"Data\":{nested}}}",
                    _ => $"{{\"EnterpriseId\":\"{Guid.NewGuid()}\",\"IntegrationId\":\"{Guid.NewGuid()}\",\"Events\":[{{\"Discriminator\":\"CustomerAdded\",\"Value\":{new string('{', 0)}{NestedObject(depth)}}}]}}",
                });
            }
            case 4: // huge strings in every string slot
            {
                var node = JsonNode.Parse(seed)!;
                var huge = new string((char)random.Next('a', 'z'), random.Next(1000, 300_000));
                ReplaceValues(node, random, v => v.GetValueKind() == System.Text.Json.JsonValueKind.String ? JsonValue.Create(huge) : null, 1.0);
                return Encoding.UTF8.GetBytes(node.ToJsonString());
            }
            case 5: // wrong types
            {
                var node = JsonNode.Parse(seed)!;
                ReplaceValues(node, random, _ => RandomValue(random, 2), 0.3);
                return Encoding.UTF8.GetBytes(node.ToJsonString());
            }
            case 6: // properties removed or added
            {
                var node = JsonNode.Parse(seed)!;
                Reshape(node, random);
                return Encoding.UTF8.GetBytes(node.ToJsonString());
            }
            default: // random bytes
            {
                var bytes = new byte[random.Next(0, 2000)];
                random.NextBytes(bytes);
                return bytes;
            }
        }
    }

    private static string NestedObject(int depth) =>
        string.Concat(Enumerable.Repeat("{\"Id\":", depth)) + "1" + new string('}', depth);

    private static JsonNode? RandomValue(Random random, int depth)
    {
        var kind = random.Next(depth > 0 ? 8 : 6);
        return kind switch
        {
            0 => null,
            1 => JsonValue.Create(random.Next(2) == 0),
            2 => JsonValue.Create(random.NextDouble() * Math.Pow(10, random.Next(-5, 300))),
            3 => JsonValue.Create(random.Next(3) switch { 0 => Guid.NewGuid().ToString(), 1 => "2019-12-13T14:42:52Z", _ => "\u0000\uD800x" }),
            4 => JsonValue.Create(long.MinValue + random.Next()),
            5 => JsonValue.Create(random.Next(4) switch
            {
                0 => IntegrationActions.All[random.Next(IntegrationActions.All.Count)],
                1 => GeneralDiscriminators.All[random.Next(GeneralDiscriminators.All.Count)],
                _ => "",
            }),
            6 => new JsonArray([.. Enumerable.Range(0, random.Next(4)).Select(_ => RandomValue(random, depth - 1))]),
            _ => RandomObject(random, depth - 1),
        };
    }

    private static JsonObject RandomObject(Random random, int depth)
    {
        string[] names = ["Action", "Data", "Events", "EnterpriseId", "IntegrationId", "Entities", "Discriminator", "Value", "Id",
            "Integration", "Enterprise", "CreatedUtc", "IsEnabled", "Requestor", "AccessToken", "DeletedUtc", "ApiKey", "Zzz"];
        var result = new JsonObject();
        for (var n = random.Next(5); n > 0; n--)
        {
            result[names[random.Next(names.Length)]] = RandomValue(random, depth);
        }
        return result;
    }

    private static void ReplaceValues(JsonNode node, Random random, Func<JsonNode, JsonNode?> replace, double chance)
    {
        if (node is JsonObject obj)
        {
            foreach (var name in obj.Select(p => p.Key).ToList())
            {
                if (obj[name] is { } child && random.NextDouble() < chance && child is JsonValue)
                {
                    if (replace(child) is { } replacement || chance < 1.0)
                    {
                        obj[name] = replace(child);
                    }
                }
                else if (obj[name] is { } inner)
                {
                    ReplaceValues(inner, random, replace, chance);
                }
            }
        }
        else if (node is JsonArray array)
        {
            for (var i = 0; i < array.Count; i++)
            {
                if (array[i] is { } child)
                {
                    ReplaceValues(child, random, replace, chance);
                }
            }
        }
    }

    private static void Reshape(JsonNode node, Random random)
    {
        if (node is JsonObject obj)
        {
            foreach (var name in obj.Select(p => p.Key).ToList())
            {
                switch (random.Next(6))
                {
                    case 0:
                        obj.Remove(name);
                        break;
                    case 1:
                        obj[name + "X"] = RandomValue(random, 2);
                        break;
                    default:
                        if (obj[name] is { } child)
                        {
                            Reshape(child, random);
                        }
                        break;
                }
            }
        }
        else if (node is JsonArray array)
        {
            foreach (var child in array.OfType<JsonNode>())
            {
                Reshape(child, random);
            }
        }
    }
}
