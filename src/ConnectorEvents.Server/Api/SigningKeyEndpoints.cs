using ConnectorEvents.Core.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using static ConnectorEvents.Server.Api.RequestReading;

namespace ConnectorEvents.Server.Api;

/// <summary>
/// <c>GET /signing-keys/{clientId}</c>: the public keys that verify a client's <c>v1a</c> (Ed25519) signatures, for the
/// integrator, who holds no management key. Outside <c>/api</c> and open: a public key lets nobody sign, and a client id is
/// not guessable. Each key with its expiry, so a receiver can take the next key before a rotation ends.
/// </summary>
public static class SigningKeyEndpoints
{
    public const string Path = "/signing-keys";

    public static void MapSigningKeys(this IEndpointRouteBuilder app) =>
        app.MapGet(Path + "/{clientId}", Ok<SigningPublicKeyList> (string clientId, IConnectorStore store, TimeProvider time) =>
        {
            var id = ParseId(clientId, "client");
            var keys = store.ListPublicSigningKeys([id], time.GetUtcNow());
            // One answer for a client that does not exist and one that signs with HMAC only: this route tells nothing else.
            return keys.Count > 0
                ? TypedResults.Ok(new SigningPublicKeyList(id, keys))
                : throw new ApiProblemException(StatusCodes.Status404NotFound, "Not found.",
                    $"No client with the id '{clientId}' signs with Ed25519.");
        }).WithTags("Signing keys").WithName("GetSigningPublicKeys").WithSummary("A client's public signing keys").ProducesProblem(404)
            .WithDescription("The public keys (whpk_…) that verify the client's v1a (Ed25519) webhook signatures, newest first; " +
                "no API key needed.");
}
