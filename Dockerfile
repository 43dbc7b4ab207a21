# syntax=docker/dockerfile:1
# The ConnectorEvents server as a container image: built with the .NET SDK image, run on the ASP.NET Core runtime
# image as its non-root user, the data folder a volume. Untested here: the development machines have no container
# engine (README "Deploying"); the published output it copies is what the publish tests start.
#   docker build -t connector-events .
#   docker run -p 5080:5080 -v ce-data:/data -e Security__AdminApiKey=… -e Security__EncryptionKey=… connector-events

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# The project files first, so a change of code reuses the restored layer.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/Directory.Build.props src/Directory.Build.targets src/
COPY src/ConnectorEvents.Contracts/ConnectorEvents.Contracts.csproj src/ConnectorEvents.Contracts/
COPY src/ConnectorEvents.Core/ConnectorEvents.Core.csproj src/ConnectorEvents.Core/
COPY src/ConnectorEvents.Storage.Sqlite/ConnectorEvents.Storage.Sqlite.csproj src/ConnectorEvents.Storage.Sqlite/
COPY src/ConnectorEvents.Storage.Postgres/ConnectorEvents.Storage.Postgres.csproj src/ConnectorEvents.Storage.Postgres/
COPY src/ConnectorEvents.Server/ConnectorEvents.Server.csproj src/ConnectorEvents.Server/
RUN dotnet restore src/ConnectorEvents.Server/ConnectorEvents.Server.csproj
COPY src/ src/
# Framework-dependent: the runtime image brings .NET; libsodium (NSec) and SQLite's native library come in runtimes/.
RUN dotnet publish src/ConnectorEvents.Server/ConnectorEvents.Server.csproj -c Release --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
COPY LICENSE ./
# The SQLite database (and nothing else with PostgreSQL) lives in /data, owned by the image's non-root user ($APP_UID)
# and closed to others, as the server makes it when it creates the folder itself.
RUN mkdir -p /data && chown "$APP_UID:$APP_UID" /data && chmod 700 /data
VOLUME /data
ENV ASPNETCORE_URLS=http://0.0.0.0:5080 \
    ASPNETCORE_ENVIRONMENT=Production \
    Storage__DataDirectory=/data \
    DOTNET_NOLOGO=1
USER $APP_UID
EXPOSE 5080
# Ready = storage reachable and delivery started. The runtime image has no curl: bash opens the socket itself.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/5080 && printf 'GET /healthz/ready HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
# Security__AdminApiKey and Security__EncryptionKey are required (the server refuses to start without them).
ENTRYPOINT ["dotnet", "ConnectorEvents.Server.dll"]
