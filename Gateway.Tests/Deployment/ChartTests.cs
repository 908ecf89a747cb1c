using Gateway.Tests.Infrastructure;
using System.Text.RegularExpressions;

namespace Gateway.Tests.Deployment;

/// <summary>
/// The Helm chart renders what a platform team expects: hardened pods, probes on the port the gateway
/// listens on, autoscaling, disruption budget, graceful shutdown, config that reloads live, and no secret
/// outside the Secret. Renders with .tools/bin/helm (build/tools.sh); without it these tests fail.
/// </summary>
public sealed partial class ChartTests
{
    [Fact]
    public void Hpa_DefaultValues_Scales3To50OnCpu()
    {
        var hpa = Chart.Default().Single("HorizontalPodAutoscaler")["spec"];

        Assert.Equal(3, hpa["minReplicas"].Int);
        Assert.Equal(50, hpa["maxReplicas"].Int);
        Assert.Equal("Deployment", hpa["scaleTargetRef"]["kind"].Str);
        Assert.Equal(Chart.FullName, hpa["scaleTargetRef"]["name"].Str);
        var cpu = Assert.Single(hpa["metrics"].Items);
        Assert.Equal("Resource", cpu["type"].Str);
        Assert.Equal("cpu", cpu["resource"]["name"].Str);
        Assert.Equal("Utilization", cpu["resource"]["target"]["type"].Str);
        Assert.Equal(70, cpu["resource"]["target"]["averageUtilization"].Int);
    }

    [Fact]
    public void Hpa_ScalesUpAtOnceAndDownSlowly()
    {
        var behavior = Chart.Default().Single("HorizontalPodAutoscaler")["spec"]["behavior"];

        Assert.Equal(0, behavior["scaleUp"]["stabilizationWindowSeconds"].Int);
        Assert.Contains(behavior["scaleUp"]["policies"].Items, p => p["periodSeconds"].Int <= 15);
        Assert.True(behavior["scaleDown"]["stabilizationWindowSeconds"].Int >= 300);
        Assert.All(behavior["scaleDown"]["policies"].Items, p => Assert.True(p["periodSeconds"].Int >= 60));
    }

    [Fact]
    public void Hpa_PodsMetric_IsOffByDefault_AndScalesOnTheNamedMetricWhenOn()
    {
        var on = Chart.Default("--set", "autoscaling.podsMetric.enabled=true", "--set", "autoscaling.podsMetric.averageValue=250")
            .Single("HorizontalPodAutoscaler")["spec"]["metrics"].Items.ToList();

        Assert.Equal(2, on.Count);
        var pods = on.Single(m => m["type"].Str == "Pods")["pods"];
        Assert.Equal("http_requests_received_per_second", pods["metric"]["name"].Str);
        Assert.Equal("AverageValue", pods["target"]["type"].Str);
        Assert.Equal("250", pods["target"]["averageValue"].Str);
    }

    [Fact]
    public void Deployment_WithAutoscaling_LeavesTheReplicaCountToTheHpa()
    {
        Assert.False(Chart.Default().Deployment["spec"]["replicas"].Exists);

        var fixedSize = Chart.Default("--set", "autoscaling.enabled=false", "--set", "replicaCount=4");
        Assert.Equal(4, fixedSize.Deployment["spec"]["replicas"].Int);
        Assert.False(fixedSize.Has("HorizontalPodAutoscaler"));
    }

    [Fact]
    public void Probes_CheckHealthzAndReadyz_OnTheNamedPortTheContainerListensOn()
    {
        var chart = Chart.Default();
        var gateway = chart.Gateway;
        var http = gateway["ports"].Items.Single(p => p["name"].Str == "http");

        Assert.Equal(8080, http["containerPort"].Int);
        Assert.Equal("http://+:8080", chart.Env("ASPNETCORE_URLS"));
        Assert.Equal("Production", chart.Env("ASPNETCORE_ENVIRONMENT"));
        // Start-up and liveness on the admin port (its own connection cap: a full public port does not get the pod
        // restarted), readiness on the public one (a full pod leaves the Service).
        foreach (var (probe, path, port) in new[] { ("startupProbe", "/healthz", "admin"), ("livenessProbe", "/healthz", "admin"), ("readinessProbe", "/readyz", "http") })
        {
            Assert.Equal(path, gateway[probe]["httpGet"]["path"].Str);
            Assert.Equal(port, gateway[probe]["httpGet"]["port"].Str);
            Assert.Contains(gateway["ports"].Items, p => p["name"].Str == port);
            Assert.True(gateway[probe]["periodSeconds"].Int > 0);
        }
        var shared = Chart.Default("--set", "admin.separatePort=false").Gateway;
        Assert.All(new[] { "startupProbe", "livenessProbe", "readinessProbe" }, probe => Assert.Equal("http", shared[probe]["httpGet"]["port"].Str));
        Assert.DoesNotContain(shared["ports"].Items, p => p["name"].Str == "admin");
        // Start-up may take up to a minute before liveness applies.
        Assert.True(gateway["startupProbe"]["periodSeconds"].Int * gateway["startupProbe"]["failureThreshold"].Int >= 30);
    }

    [Fact]
    public void Pod_RunsAsNonRoot_WithReadOnlyRootNoCapabilitiesAndAWritableTmp()
    {
        var chart = Chart.Default();
        var pod = chart.PodSpec;
        var container = chart.Gateway["securityContext"];

        Assert.Equal("true", pod["securityContext"]["runAsNonRoot"].Str);
        Assert.Equal(1654, pod["securityContext"]["runAsUser"].Int);
        Assert.Equal("RuntimeDefault", pod["securityContext"]["seccompProfile"]["type"].Str);
        Assert.Equal("true", container["runAsNonRoot"].Str);
        Assert.Equal(1654, container["runAsUser"].Int);
        Assert.Equal("true", container["readOnlyRootFilesystem"].Str);
        Assert.Equal("false", container["allowPrivilegeEscalation"].Str);
        Assert.Equal(["ALL"], container["capabilities"]["drop"].Items.Select(i => i.Str));
        Assert.Equal("RuntimeDefault", container["seccompProfile"]["type"].Str);
        Assert.Equal("false", pod["automountServiceAccountToken"].Str);
        Assert.Equal("false", chart.Single("ServiceAccount")["automountServiceAccountToken"].Str);

        var tmp = chart.Gateway["volumeMounts"].Items.Single(m => m["mountPath"].Str == "/tmp");
        var volume = pod["volumes"].Items.Single(v => v["name"].Str == tmp["name"].Str);
        Assert.True(volume["emptyDir"].Exists);
    }

    [Fact]
    public void Resources_DefaultToTheOriginalRequestsAndLimits()
    {
        var resources = Chart.Default().Gateway["resources"];

        Assert.Equal("200m", resources["requests"]["cpu"].Str);
        Assert.Equal("256Mi", resources["requests"]["memory"].Str);
        Assert.Equal("1000m", resources["limits"]["cpu"].Str);
        Assert.Equal("512Mi", resources["limits"]["memory"].Str);
    }

    [Fact]
    public void Pods_SpreadAcrossZonesAndNodes_WithoutBlockingScheduling()
    {
        var constraints = Chart.Default().PodSpec["topologySpreadConstraints"].Items.ToList();

        Assert.Equal(
            ["kubernetes.io/hostname", "topology.kubernetes.io/zone"],
            constraints.Select(c => c["topologyKey"].Str).Order(StringComparer.Ordinal));
        Assert.All(constraints, c =>
        {
            Assert.Equal("ScheduleAnyway", c["whenUnsatisfiable"].Str);
            Assert.Equal("waiting-room-gateway", c["labelSelector"]["matchLabels"]["app.kubernetes.io/name"].Str);
        });
    }

    [Fact]
    public void ConfigMap_IsMountedAsADirectoryWithoutSubPath_AndIsTheGatewaysConfigFile()
    {
        var chart = Chart.Production();
        var configMap = chart.Single("ConfigMap");
        var mount = chart.Gateway["volumeMounts"].Items.Single(m => m["name"].Str == "config");
        var volume = chart.PodSpec["volumes"].Items.Single(v => v["name"].Str == "config");

        Assert.Equal("/etc/waiting-room", mount["mountPath"].Str);
        Assert.False(mount["subPath"].Exists, "a subPath mount never sees the kubelet's ..data swap, so edits would not reload");
        Assert.False(mount["subPathExpr"].Exists);
        Assert.Equal(configMap["metadata"]["name"].Str, volume["configMap"]["name"].Str);
        Assert.False(volume["configMap"]["items"].Exists);
        Assert.Equal("/etc/waiting-room/appsettings.Production.json", chart.Env("Gateway__ConfigFile"));
        var json = System.Text.Json.Nodes.JsonNode.Parse(configMap["data"]["appsettings.Production.json"].Str!)!;
        Assert.Equal(3, json["ReverseProxy"]!["Clusters"]!["payment"]!["Destinations"]!.AsObject().Count);
    }

    [Fact]
    public void PreStop_SleepsFiveSeconds_AndTheGracePeriodCoversTheDrain()
    {
        var chart = Chart.Default();

        Assert.Equal(5, chart.Gateway["lifecycle"]["preStop"]["sleep"]["seconds"].Int);
        Assert.Equal(45, chart.PodSpec["terminationGracePeriodSeconds"].Int);
        Assert.Equal("00:00:05", chart.Env("Shutdown__DrainDelay"));
        Assert.Equal("00:00:30", chart.Env("Shutdown__Timeout"));
    }

    [Fact]
    public void PreStop_ExecFallback_RunsTheGivenCommand_AndNoneLeavesTheHookOut()
    {
        var exec = Chart.Default("--set", "preStop.mode=exec").Gateway["lifecycle"]["preStop"];
        Assert.False(exec["sleep"].Exists);
        Assert.Equal(["/bin/sh", "-c", "sleep 5"], exec["exec"]["command"].Items.Select(i => i.Str));

        Assert.False(Chart.Default("--set", "preStop.mode=none").Gateway["lifecycle"].Exists);
    }

    [Fact]
    public void Pdb_IsPresent_WithMaxUnavailableOne()
    {
        var pdb = Chart.Default().Single("PodDisruptionBudget")["spec"];

        Assert.Equal(1, pdb["maxUnavailable"].Int);
        Assert.False(pdb["minAvailable"].Exists);
        Assert.Equal("waiting-room-gateway", pdb["selector"]["matchLabels"]["app.kubernetes.io/name"].Str);
        Assert.Equal("gw", pdb["selector"]["matchLabels"]["app.kubernetes.io/instance"].Str);
    }

    [GeneratedRegex(@"(?i)secret|password|passwd|connectionstring|signingkey|sha256|apikey|privatekey")]
    private static partial Regex SecretLookingKey();

    [GeneratedRegex(@"(?i)(password|pwd)\s*=|-----BEGIN [A-Z ]*PRIVATE KEY|://[^/@\s]*:[^/@\s]+@")]
    private static partial Regex SecretLookingValue();

    [Fact]
    public void ConfigMaps_HoldNoSecretLookingKeyOrValue()
    {
        var secrets = new[]
        {
            "--set", "secrets.identityKeys[0].id=web",
            "--set", "secrets.identityKeys[0].secret=" + Convert.ToBase64String(new byte[32]),
            "--set", "secrets.adminKeys[0].id=ops",
            "--set", "secrets.adminKeys[0].sha256=" + new string('a', 64),
        };
        foreach (var chart in new[] { Chart.Default(secrets), Chart.Production() })
        {
            foreach (var configMap in chart.OfKind("ConfigMap"))
            {
                var scalars = configMap["data"].Scalars().ToList();
                var config = System.Text.Json.Nodes.JsonNode.Parse(configMap["data"]["appsettings.Production.json"].Str!)!;
                var keys = JsonKeys(config).ToList();

                Assert.DoesNotContain(keys, k => SecretLookingKey().IsMatch(k));
                Assert.DoesNotContain(keys, k => k.Equals("Keys", StringComparison.OrdinalIgnoreCase));
                Assert.DoesNotContain(scalars, s => SecretLookingValue().IsMatch(s.Value));
                // The values that went into the Secret (ci/required-values.yaml and the keys above) are not here.
                foreach (var (_, value) in scalars)
                {
                    Assert.DoesNotContain("redis.tickets.svc.cluster.local:6379", value, StringComparison.Ordinal);
                    Assert.DoesNotContain("dGVzdC1vbmx5LXNpZ25pbmcta2V5", value, StringComparison.Ordinal);
                    Assert.DoesNotContain(Convert.ToBase64String(new byte[32]), value, StringComparison.Ordinal);
                    Assert.DoesNotContain(new string('a', 64), value, StringComparison.Ordinal);
                }
            }
        }
    }

    private static IEnumerable<string> JsonKeys(System.Text.Json.Nodes.JsonNode? node) => node switch
    {
        System.Text.Json.Nodes.JsonObject o => o.SelectMany(kv => JsonKeys(kv.Value).Prepend(kv.Key)),
        System.Text.Json.Nodes.JsonArray a => a.SelectMany(JsonKeys),
        _ => [],
    };

    [Fact]
    public void Secret_CarriesRedisAndKeysUnderTheGatewaysEnvNames_InjectedWithEnvFrom()
    {
        var identity = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
        var chart = Chart.Default(
            "--set", "secrets.signingKeys[1].id=old",
            "--set", "secrets.signingKeys[1].secret=" + Convert.ToBase64String(new byte[33]),
            "--set", "secrets.identityKeys[0].id=web",
            "--set", "secrets.identityKeys[0].secret=" + identity,
            "--set", "secrets.adminKeys[0].id=ops",
            "--set", "secrets.adminKeys[0].sha256=" + new string('F', 64));
        var secret = chart.Single("Secret");
        var data = secret["data"].Entries.ToDictionary(
            kv => kv.Key, kv => System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(kv.Value.Str!)), StringComparer.Ordinal);

        Assert.Equal("redis.tickets.svc.cluster.local:6379,ssl=false,abortConnect=false", data["ConnectionStrings__Redis"]);
        Assert.Equal("test-only", data["WaitingRoom__SigningKeys__0__Id"]);
        Assert.True(Convert.FromBase64String(data["WaitingRoom__SigningKeys__0__Secret"]).Length >= 32);
        Assert.Equal("old", data["WaitingRoom__SigningKeys__1__Id"]);
        Assert.Equal("web", data["WaitingRoom__Identity__Keys__0__Id"]);
        Assert.Equal(identity, data["WaitingRoom__Identity__Keys__0__Secret"]);
        Assert.Equal("ops", data["Admin__Keys__0__Id"]);
        Assert.Equal(new string('f', 64), data["Admin__Keys__0__Sha256"]);
        var envFrom = Assert.Single(chart.Gateway["envFrom"].Items);
        Assert.Equal(secret["metadata"]["name"].Str, envFrom["secretRef"]["name"].Str);
        Assert.NotNull(chart.PodAnnotation("checksum/secret"));
    }

    [Fact]
    public void ExistingSecret_MakesNoSecret_AndIsInjectedByName()
    {
        var chart = Chart.Production();

        Assert.False(chart.Has("Secret"));
        Assert.Equal("waiting-room-gateway-secrets", Assert.Single(chart.Gateway["envFrom"].Items)["secretRef"]["name"].Str);
        Assert.Null(chart.PodAnnotation("checksum/secret"));
    }

    [Fact]
    public void DefaultValues_WithoutRedis_FailWithAClearMessage()
    {
        var result = Chart.TemplateRaw();

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("A Redis connection string is required", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("existingSecret", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void RouteEdit_DoesNotRollPods_ButAnEditOfASectionReadAtStartUpDoes()
    {
        const string route = "config.ReverseProxy.Routes.r.ClusterId=c";
        var baseline = Chart.Default("--set", route).PodAnnotation("checksum/config");
        var otherRoute = Chart.Default("--set", "config.ReverseProxy.Routes.r.ClusterId=d").PodAnnotation("checksum/config");
        var otherRoom = Chart.Default("--set", route, "--set", "config.WaitingRoom.Rooms.concert.Capacity=5").PodAnnotation("checksum/config");
        var forwarding = Chart.Default("--set", route, "--set", "config.Forwarding.MaxConnectionsPerServer=64").PodAnnotation("checksum/config");

        Assert.NotNull(baseline);
        Assert.Equal(baseline, otherRoute);
        Assert.Equal(baseline, otherRoom);
        Assert.NotEqual(baseline, forwarding);

        var always = new[] { "--set", "configRollout.mode=always" };
        Assert.NotEqual(
            Chart.Default([.. always, "--set", route]).PodAnnotation("checksum/config"),
            Chart.Default([.. always, "--set", "config.ReverseProxy.Routes.r.ClusterId=d"]).PodAnnotation("checksum/config"));
        Assert.Null(Chart.Default("--set", "configRollout.mode=never").PodAnnotation("checksum/config"));
    }

    [Fact]
    public void SecretChange_RollsPods()
    {
        var before = Chart.Default().PodAnnotation("checksum/secret");
        var after = Chart.Default("--set", "secrets.redisConnectionString=redis-2:6379").PodAnnotation("checksum/secret");

        Assert.NotEqual(before, after);
    }

    [Fact]
    public void AdminApi_HasItsOwnPortAndService_AndThePublicServiceAndIngressNeverReachIt()
    {
        var chart = Chart.Production();

        Assert.Equal("http://+:8081", chart.Env("Admin__Urls"));
        Assert.Equal("1000", chart.Env("Admin__MaxConcurrentConnections"));
        Assert.Equal(8081, chart.Gateway["ports"].Items.Single(p => p["name"].Str == "admin")["containerPort"].Int);
        var publicService = chart.Single("Service", Chart.FullName);
        var port = Assert.Single(publicService["spec"]["ports"].Items);
        Assert.Equal("http", port["targetPort"].Str);
        Assert.Equal(80, port["port"].Int);
        Assert.Equal("ClusterIP", publicService["spec"]["type"].Str);
        var admin = chart.Single("Service", Chart.FullName + "-admin");
        Assert.Equal("admin", Assert.Single(admin["spec"]["ports"].Items)["targetPort"].Str);
        Assert.Equal("ClusterIP", admin["spec"]["type"].Str);

        var paths = chart.Single("Ingress")["spec"]["rules"].Items.SelectMany(r => r["http"]["paths"].Items).ToList();
        Assert.NotEmpty(paths);
        Assert.All(paths, p =>
        {
            Assert.Equal(Chart.FullName, p["backend"]["service"]["name"].Str);
            Assert.Equal("http", p["backend"]["service"]["port"]["name"].Str);
            Assert.False(p["path"].Str!.StartsWith("/admin", StringComparison.OrdinalIgnoreCase));
        });
        Assert.Equal("nginx", chart.Single("Ingress")["spec"]["ingressClassName"].Str);
        Assert.Equal("tickets-example-com-tls", chart.Single("Ingress")["spec"]["tls"][0]["secretName"].Str);
    }

    [Fact]
    public void AdminApi_OnTheSharedPort_IsRefusedBehindAnIngress()
    {
        var result = Chart.TemplateRaw("-f", Chart.ProductionValues, "--set", "admin.separatePort=false");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("ingress.enabled needs admin.separatePort=true", result.Stderr, StringComparison.Ordinal);

        var shared = Chart.Default("--set", "admin.separatePort=false");
        Assert.Null(shared.Env("Admin__Urls"));
        Assert.Single(shared.OfKind("Service"));
    }

    [Fact]
    public void NetworkPolicy_AdmitsTheAdminPortOnlyFromSelectedNamespaces_AndAllowsRedisBackendsAndDns()
    {
        var policy = Chart.Production().Single("NetworkPolicy")["spec"];
        var ingress = policy["ingress"].Items.ToList();

        var adminRule = ingress.Single(r => r["ports"].Items.Any(p => p["port"].Int == 8081));
        Assert.Equal(["ops-tools"], adminRule["from"].Items.Select(f => f["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"].Str));
        Assert.All(ingress.Where(r => r != adminRule), r => Assert.DoesNotContain(r["ports"].Items, p => p["port"].Int == 8081));
        var httpRule = ingress.Single(r => r["ports"].Items.Any(p => p["port"].Int == 8080));
        Assert.Contains(httpRule["from"].Items, f => f["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"].Str == "ingress-nginx");

        var egress = policy["egress"].Items.ToList();
        Assert.Contains(egress, r => r["ports"].Items.Any(p => p["port"].Int == 53 && p["protocol"].Str == "UDP"));
        Assert.Contains(egress, r => r["ports"].Items.Any(p => p["port"].Int == 6380) && r["to"][0]["ipBlock"]["cidr"].Str == "10.30.0.0/24");
        Assert.Contains(egress, r => r["to"].Items.Any(t => t["ipBlock"]["cidr"].Str == "10.20.0.0/16"));
        Assert.Equal(["Ingress", "Egress"], policy["policyTypes"].Items.Select(t => t.Str));
    }

    [Fact]
    public void ServiceMonitor_ScrapesMetricsOnTheHttpPortOfThePublicServiceOnly()
    {
        var chart = Chart.Production();
        var monitor = chart.Single("ServiceMonitor");
        var endpoint = Assert.Single(monitor["spec"]["endpoints"].Items);

        Assert.Equal("monitoring.coreos.com/v1", monitor["apiVersion"].Str);
        Assert.Equal("/metrics", endpoint["path"].Str);
        Assert.Equal("http", endpoint["port"].Str);
        Assert.Equal("kube-prometheus-stack", monitor["metadata"]["labels"]["release"].Str);
        var selector = monitor["spec"]["selector"]["matchLabels"].Entries.ToDictionary(kv => kv.Key, kv => kv.Value.Str);
        var selected = chart.OfKind("Service").Where(s =>
            selector.All(kv => s["metadata"]["labels"][kv.Key].Str == kv.Value)).ToList();
        Assert.Equal(Chart.FullName, Assert.Single(selected)["metadata"]["name"].Str);
        Assert.False(Chart.Default().Has("ServiceMonitor"));
    }

    [Fact]
    public void ServiceMonitor_OnTheAdminPort_SelectsTheAdminServiceOnly()
    {
        var chart = Chart.Production("--set", "serviceMonitor.port=admin");
        var monitor = chart.Single("ServiceMonitor");
        var endpoint = Assert.Single(monitor["spec"]["endpoints"].Items);

        Assert.Equal("admin", endpoint["port"].Str);
        var selector = monitor["spec"]["selector"]["matchLabels"].Entries.ToDictionary(kv => kv.Key, kv => kv.Value.Str);
        var selected = chart.OfKind("Service").Where(s =>
            selector.All(kv => s["metadata"]["labels"][kv.Key].Str == kv.Value)).ToList();
        var admin = Assert.Single(selected);
        Assert.Equal(Chart.FullName + "-admin", admin["metadata"]["name"].Str);
        Assert.Contains(admin["spec"]["ports"].Items, p => p["name"].Str == "admin");
    }

    [Fact]
    public void HelmTestPod_GetsReadyzThroughTheService_AsHardenedAsTheGateway()
    {
        var chart = Chart.Default();
        var pod = chart.OfKind("Pod").Single(p => p["metadata"]["annotations"]["helm.sh/hook"].Str == "test");
        var container = Assert.Single(pod["spec"]["containers"].Items);

        Assert.Contains(container["command"].Items, a => a.Str == $"http://{Chart.FullName}:80/readyz");
        Assert.Equal("true", container["securityContext"]["readOnlyRootFilesystem"].Str);
        Assert.Equal("true", container["securityContext"]["runAsNonRoot"].Str);
        Assert.Equal(["ALL"], container["securityContext"]["capabilities"]["drop"].Items.Select(i => i.Str));
        Assert.Equal("Never", pod["spec"]["restartPolicy"].Str);
        // The Service, PDB and NetworkPolicy select the gateway's pods by name: the test pod must not match.
        Assert.NotEqual("waiting-room-gateway", pod["metadata"]["labels"]["app.kubernetes.io/name"].Str);
    }

    [Fact]
    public void EveryObject_CarriesTheStandardLabels()
    {
        foreach (var obj in Chart.Production().Objects)
        {
            var labels = obj["metadata"]["labels"];
            Assert.Equal("waiting-room-gateway-0.1.0", labels["helm.sh/chart"].Str);
            Assert.Equal("gw", labels["app.kubernetes.io/instance"].Str);
            Assert.Equal("Helm", labels["app.kubernetes.io/managed-by"].Str);
            Assert.StartsWith("waiting-room-gateway", labels["app.kubernetes.io/name"].Str, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ForwardedHeadersAndTelemetry_ReachTheGatewayAsEnv()
    {
        var chart = Chart.Production();

        Assert.Equal("10.0.0.0/16", chart.Env("ForwardedHeaders__KnownNetworks__0"));
        Assert.Equal("10.244.0.0/16", chart.Env("ForwardedHeaders__KnownNetworks__1"));
        Assert.Equal("http://otel-collector.observability.svc.cluster.local:4317", chart.Env("Telemetry__OtlpEndpoint"));
        Assert.Equal("0.05", chart.Env("Telemetry__SamplingRatio"));
        Assert.Equal("1", chart.Env("DOTNET_gcServer"));
        Assert.Equal("0", Chart.Default("--set", "dotnet.gcServer=false").Env("DOTNET_gcServer"));
    }

    [Theory]
    [InlineData("at '/autoscaling/minReplicas'", "--set", "autoscaling.minReplicas=0")]
    [InlineData("at '/replicaCount'", "--set", "replicaCount=-1")]
    [InlineData("at '/replicaCount'", "--set-string", "replicaCount=3")]
    [InlineData("must not be greater than autoscaling.maxReplicas", "--set", "autoscaling.minReplicas=10", "--set", "autoscaling.maxReplicas=5")]
    [InlineData("at '/autoscaling/maxReplicas'", "--set", "autoscaling.maxReplicas=5000")]
    [InlineData("additional properties 'replicas' not allowed", "--set", "replicas=3")]
    [InlineData("at '/resources/limits/memory'", "--set", "resources.limits.memory=512MB")]
    [InlineData("at '/resources/requests/cpu'", "--set", "resources.requests.cpu=lots")]
    [InlineData("at '/service/port'", "--set", "service.port=70000")]
    [InlineData("at '/containerPorts/http'", "--set", "containerPorts.http=0")]
    [InlineData("at '/admin/maxConcurrentConnections'", "--set", "admin.maxConcurrentConnections=0")]
    [InlineData("at '/serviceMonitor/port'", "--set", "serviceMonitor.port=metrics")]
    [InlineData("serviceMonitor.port=admin needs admin.separatePort=true", "--set", "serviceMonitor.enabled=true", "--set", "serviceMonitor.port=admin", "--set", "admin.separatePort=false")]
    [InlineData("at '/image/pullPolicy'", "--set", "image.pullPolicy=Sometimes")]
    [InlineData("at '/shutdown/timeout'", "--set", "shutdown.timeout=30s")]
    [InlineData("at '/secrets/signingKeys/0/secret'", "--set", "secrets.signingKeys[0].secret=c2hvcnQ=")]
    [InlineData("at '/secrets/adminKeys/0/sha256'", "--set", "secrets.adminKeys[0].id=ops", "--set", "secrets.adminKeys[0].sha256=not-hex")]
    [InlineData("at '/forwardedHeaders/knownNetworks/0'", "--set", "forwardedHeaders.knownNetworks[0]=10.0.0.0/33")]
    [InlineData("config:ConnectionStrings must not be in `config`", "--set", "config.ConnectionStrings.Redis=redis:6379")]
    [InlineData("config:connectionStrings must not be in `config`", "--set", "config.connectionStrings.redis=redis:6379")]
    [InlineData("config:Store:ConnectionString looks like a secret", "--set", "config.Store.ConnectionString=redis:6379")]
    [InlineData("config:WaitingRoom:SigningKeys looks like a secret", "--set", "config.WaitingRoom.SigningKeys[0].Secret=c2VjcmV0")]
    [InlineData("config:WaitingRoom:Identity:Keys looks like a secret", "--set", "config.WaitingRoom.Identity.Keys[0].Id=web")]
    [InlineData("config:Admin must not be in `config`", "--set", "config.Admin.Keys[0].Sha256=00")]
    [InlineData("holds a credential", "--set", "config.Backend.Url=https://user:hunter2@backend.example.com/")]
    [InlineData("config:Telemetry is set by the chart", "--set", "config.Telemetry.SamplingRatio=1")]
    [InlineData("podDisruptionBudget: set exactly one", "--set", "podDisruptionBudget.minAvailable=2")]
    [InlineData("must cover preStop", "--set", "terminationGracePeriodSeconds=20")]
    [InlineData("preStop.mode=sleep needs Kubernetes 1.30", "--kube-version", "1.29.0")]
    [InlineData("the Ingress never routes /admin", "--set", "ingress.enabled=true", "--set", "ingress.hosts[0].host=a.example.com", "--set", "ingress.hosts[0].paths[0].path=/admin", "--set", "ingress.hosts[0].paths[0].pathType=Prefix")]
    [InlineData("existingSecret is set, so `secrets` would be ignored", "--set", "existingSecret=made-elsewhere")]
    [InlineData("cannot reach Redis", "--set", "networkPolicy.enabled=true")]
    public void Schema_RejectsBadValues(string expectedError, params string[] args)
    {
        var result = Chart.TemplateRaw(["-f", Chart.RequiredValues, .. args]);

        Assert.True(result.ExitCode != 0, $"helm template {string.Join(' ', args)} rendered, but must be refused");
        Assert.Contains(expectedError, result.Stderr, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^\|\s*`([^`]+)`\s*\|\s*(.*?)\s*\|\s*(.*?)\s*\|\s*$", RegexOptions.Multiline)]
    private static partial Regex ReadmeValueRow();

    /// <summary>The README's value table: key -> (default column, meaning column).</summary>
    private static Dictionary<string, (string Default, string Meaning)> ReadmeValues()
    {
        var readme = File.ReadAllText(Path.Combine(Repo.ChartDir, "README.md"));
        var start = readme.IndexOf("## Values", StringComparison.Ordinal);
        Assert.True(start >= 0, "charts/waiting-room-gateway/README.md has no '## Values' section");
        var end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var section = end < 0 ? readme[start..] : readme[start..end];
        var rows = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        foreach (Match m in ReadmeValueRow().Matches(section))
            Assert.True(rows.TryAdd(m.Groups[1].Value, (m.Groups[2].Value, m.Groups[3].Value)), "README documents " + m.Groups[1].Value + " twice");
        return rows;
    }

    /// <summary>values.yaml's keys: every scalar, list and empty map by dotted path, and every non-empty map.</summary>
    private static List<(string Path, Node Value, bool MustBeDocumented)> ValuesKeys()
    {
        var stream = new YamlDotNet.RepresentationModel.YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Path.Combine(Repo.ChartDir, "values.yaml"))));
        var keys = new List<(string, Node, bool)>();
        void Walk(string prefix, Node node)
        {
            foreach (var (key, value) in node.Entries)
            {
                var path = prefix.Length == 0 ? key : prefix + "." + key;
                var isNonEmptyMap = value.Raw is YamlDotNet.RepresentationModel.YamlMappingNode { Children.Count: > 0 };
                keys.Add((path, value, !isNonEmptyMap));
                if (isNonEmptyMap)
                    Walk(path, value);
            }
        }
        Walk("", new Node(stream.Documents[0].RootNode));
        return keys;
    }

    [Fact]
    public void ValuesYaml_EveryKeyIsDocumentedInTheChartReadme()
    {
        var documented = ReadmeValues();
        var freeForm = documented.Where(r => r.Value.Meaning.Contains("(free-form)", StringComparison.Ordinal)).Select(r => r.Key + ".").ToList();

        var missing = ValuesKeys()
            .Where(k => k.MustBeDocumented && !documented.ContainsKey(k.Path) && !freeForm.Any(f => k.Path.StartsWith(f, StringComparison.Ordinal)))
            .Select(k => k.Path)
            .ToList();

        Assert.True(missing.Count == 0, "not in the README's Values table: " + string.Join(", ", missing));
    }

    [Fact]
    public void ChartReadme_DocumentsOnlyKeysValuesYamlHas_WithTheirRealDefaults()
    {
        var keys = ValuesKeys().ToDictionary(k => k.Path, k => k.Value, StringComparer.Ordinal);

        foreach (var (key, (shownDefault, _)) in ReadmeValues())
        {
            Assert.True(keys.TryGetValue(key, out var value), $"README documents {key}, which values.yaml does not have");
            if (value.Raw is YamlDotNet.RepresentationModel.YamlScalarNode scalar)
            {
                var expected = scalar.Value is null or "" ? "\"\"" : scalar.Value;
                if (scalar.Style == YamlDotNet.Core.ScalarStyle.Plain && scalar.Value is "null" or "~")
                    expected = "null";
                Assert.True(shownDefault.Trim('`') == expected, $"README shows {key} defaulting to {shownDefault}, values.yaml has {expected}");
            }
        }
    }

    [Fact]
    public void HelmLint_Strict_PassesWithDefaultRequiredAndProductionValues()
    {
        foreach (var values in new[] { Array.Empty<string>(), ["-f", Chart.RequiredValues], ["-f", Chart.ProductionValues] })
        {
            var result = Tool.Run(Tool.Helm, ["lint", "--strict", Repo.ChartDir, .. values]);
            Assert.True(result.ExitCode == 0, $"helm lint --strict {string.Join(' ', values)}:\n{result.Stdout}\n{result.Stderr}");
        }
    }

    [Fact]
    public void RenderedObjects_PassTheKubernetes134Schemas()
    {
        var dir = Directory.CreateTempSubdirectory("wrg-chart-");
        try
        {
            var files = new List<string>();
            foreach (var (name, chart) in new[] { ("default", Chart.Default()), ("production", Chart.Production()) })
            {
                var file = Path.Combine(dir.FullName, name + ".yaml");
                File.WriteAllText(file, chart.Text);
                files.Add(file);
            }

            var result = Tool.Run("node", [Tool.ManifestCheck, .. files]);

            Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
            Assert.Contains("0 invalid", result.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
