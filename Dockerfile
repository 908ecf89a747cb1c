# The gateway's production image: built with the .NET SDK, run on the chiseled ASP.NET Core runtime
# (Ubuntu 24.04 "noble", no shell, no package manager, non-root). Kubernetes probes check health (/healthz,
# /readyz), so there is no HEALTHCHECK here: a chiseled image has no curl or shell to run one anyway.
#   docker build -t waiting-room-gateway:0.1.0 --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD) .

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files alone, so a source change does not re-download packages.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY Gateway.Admission/Gateway.Admission.csproj Gateway.Admission/
COPY Gateway.Proxy/Gateway.Proxy.csproj Gateway.Proxy/
# EmbeddedStore=false: the image has no in-process store (Garnet, its Lua and native index libraries);
# it always runs on ConnectionStrings:Redis.
RUN dotnet restore Gateway.Proxy/Gateway.Proxy.csproj -p:EmbeddedStore=false
COPY Gateway.Admission/ Gateway.Admission/
COPY Gateway.Proxy/ Gateway.Proxy/
# publish-command: the one place the publish command is written (Gateway.Tests/Deployment/DockerfileTests reads this line).
RUN dotnet publish Gateway.Proxy/Gateway.Proxy.csproj -c Release -o /app/publish -p:UseAppHost=false -p:EmbeddedStore=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=""
LABEL org.opencontainers.image.title="waiting-room-gateway" \
      org.opencontainers.image.description="YARP reverse proxy with a Redis-backed virtual waiting room" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.base.name="mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled"
WORKDIR /app
# Owned by root and read-only to the app user: the process cannot change its own code.
COPY --from=build /app/publish .
# The `app` user of the chiseled images (APP_UID 1654), numeric so Kubernetes' runAsNonRoot can verify it.
USER 1654
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_HTTP_PORTS= \
    ASPNETCORE_ENVIRONMENT=Production
EXPOSE 8080
ENTRYPOINT ["dotnet", "Gateway.Proxy.dll"]
