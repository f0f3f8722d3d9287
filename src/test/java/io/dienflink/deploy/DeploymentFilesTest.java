package io.dienflink.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.dienflink.cli.JobMain;
import io.dienflink.cli.Main;
import io.dienflink.job.DienJobConfig;
import io.dienflink.job.DienJobOptions;
import io.dienflink.job.DienScoringJob;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.FallbackKey;
import org.junit.jupiter.api.Test;

/**
 * What can be checked of the deployment files without a Docker engine or a Kubernetes cluster:
 * they parse, their image tags follow the build's versions, the jar, main class and subcommand
 * arguments they reference exist, every Flink configuration key they set is one Flink 2.2 defines,
 * and kustomize renders the overlay.
 */
class DeploymentFilesTest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Path COMPOSE = Path.of("docker-compose.yml");
    private static final Path DOCKERFILE = Path.of("deploy/Dockerfile");
    private static final Path BASE = Path.of("deploy/kubernetes/base");
    private static final Path OVERLAY = Path.of("deploy/kubernetes/overlays/production");

    private static String pomProperty(String name) throws IOException {
        Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</").matcher(Files.readString(Path.of("pom.xml")));
        assertThat(m.find()).as("pom property " + name).isTrue();
        return m.group(1).trim();
    }

    private static List<JsonNode> documents(Path file) throws IOException {
        List<JsonNode> docs = new ArrayList<>();
        try (var parser = YAML.getFactory().createParser(file.toFile())) {
            Iterator<JsonNode> it = YAML.readValues(parser, JsonNode.class);
            it.forEachRemaining(docs::add);
        }
        return docs;
    }

    private static List<Path> yamlFiles() throws IOException {
        List<Path> files = new ArrayList<>(List.of(COMPOSE));
        try (Stream<Path> s = Files.walk(Path.of("deploy"))) {
            s.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).forEach(files::add);
        }
        return files;
    }

    private static JsonNode flinkDeployment() throws IOException {
        return documents(BASE.resolve("flinkdeployment.yaml")).get(0);
    }

    @Test
    void everyYamlFileParses() throws IOException {
        List<Path> files = yamlFiles();
        assertThat(files).hasSizeGreaterThanOrEqualTo(8);
        for (Path f : files) {
            assertThat(documents(f)).as(f.toString()).isNotEmpty().allSatisfy(d -> assertThat(d.isObject() || d.isArray()).isTrue());
        }
    }

    @Test
    void imageTagsFollowTheBuildsVersions() throws IOException {
        String flink = pomProperty("flink.version");
        String kafka = pomProperty("kafka.version");
        String dockerfile = Files.readString(DOCKERFILE);
        assertThat(dockerfile).contains("FROM flink:" + flink + "-java17").contains("eclipse-temurin-17");
        JsonNode services = documents(COMPOSE).get(0).get("services");
        assertThat(services.get("kafka").get("image").asText()).isEqualTo("apache/kafka:" + kafka);
        assertThat(services.get("topics").get("image").asText()).isEqualTo("apache/kafka:" + kafka);
        assertThat(services.get("prometheus").get("image").asText()).matches("prom/prometheus:v\\d+\\.\\d+\\.\\d+");
        String[] mm = flink.split("\\.");
        assertThat(flinkDeployment().get("spec").get("flinkVersion").asText()).isEqualTo("v" + mm[0] + "_" + mm[1]);
    }

    @Test
    void jarMainClassAndSubcommandArgumentsExist() throws Exception {
        // two artifacts: the job jar (JobMain) for clusters, the tool jar (Main) for everything else
        assertThat(Files.readString(Path.of("pom.xml"))).contains("<finalName>dien-flink</finalName>")
                .contains("<mainClass>io.dienflink.cli.Main</mainClass>")
                .contains("<outputFile>${project.build.directory}/dien-flink-job.jar</outputFile>")
                .contains("<mainClass>io.dienflink.cli.JobMain</mainClass>");
        String dockerfile = Files.readString(DOCKERFILE);
        assertThat(dockerfile).contains("COPY --from=build /src/target/dien-flink-job.jar /opt/flink/usrlib/dien-flink-job.jar")
                .contains("COPY --from=build /src/target/dien-flink.jar /opt/dien/lib/dien-flink.jar")
                .contains("COPY bin/dien-flink /opt/dien/bin/dien-flink")
                .contains("ENV DIEN_FLINK_JAR=/opt/dien/lib/dien-flink.jar")
                // the tool jar (Flink's runtime, ND4J's natives) must never be on the job's class path
                .doesNotContain("target/dien-flink.jar /opt/flink/usrlib")
                .doesNotContain("ND4J");
        assertThat(Path.of("bin/dien-flink")).isExecutable();
        JsonNode job = flinkDeployment().get("spec").get("job");
        assertThat(job.get("jarURI").asText()).isEqualTo("local:///opt/flink/usrlib/dien-flink-job.jar");
        assertThat(Class.forName(job.get("entryClass").asText())).isEqualTo(JobMain.class);
        // the job's arguments, in the base and in the overlay, parse as a `run` invocation whose
        // dien.* settings are options the job defines
        List<String> args = new ArrayList<>();
        job.get("args").forEach(a -> args.add(a.asText()));
        assertRunArguments(args);
        JsonNode patch = documents(OVERLAY.resolve("flinkdeployment-patch.yaml")).get(0);
        List<String> overlayArgs = new ArrayList<>();
        for (JsonNode op : patch) {
            if (op.get("path").asText().equals("/spec/job/args")) {
                op.get("value").forEach(a -> overlayArgs.add(a.asText()));
            }
        }
        assertThat(overlayArgs).as("the overlay's job arguments").isNotEmpty();
        assertRunArguments(overlayArgs);
        // compose: the jar path and the shipped bundle the services use
        String compose = Files.readString(COMPOSE);
        assertThat(compose).contains("/opt/flink/usrlib/dien-flink-job.jar").contains("--model /opt/dien/bundles/demo")
                .doesNotContain("usrlib/dien-flink.jar");
        assertThat(Path.of("bundles/demo/model.json")).exists();
        // the tool services' commands parse as the CLI's
        JsonNode services = documents(COMPOSE).get(0).get("services");
        for (String service : List.of("traffic", "scores")) {
            List<String> command = new ArrayList<>();
            services.get(service).get("command").forEach(a -> command.add(a.asText()));
            assertThat(command).as(service).isNotEmpty();
            // the tools run through the launcher, which passes the JVM flags
            assertThat(services.get(service).get("entrypoint").get(0).asText()).as(service).isEqualTo("/opt/dien/bin/dien-flink");
            assertThat(Main.commandLine().getSubcommands()).as(service).containsKey(command.get(0));
            Main.commandLine().parseArgs(command.toArray(new String[0]));
        }
        assertThat(compose).contains("dien-flink-job.jar run \\\n          --bootstrap-servers kafka:9092 --model /opt/dien/bundles/demo");
        assertRunArguments(List.of("run", "--bootstrap-servers", "kafka:9092", "--model", "/opt/dien/bundles/demo"));
    }

    private static void assertRunArguments(List<String> args) throws Exception {
        assertThat(args).first().isEqualTo("run");
        JobMain.commandLine().parseArgs(JobMain.withDefaultCommand(args.toArray(new String[0])));
        Set<String> known = optionKeys(DienJobOptions.class);
        args.stream().filter(a -> a.startsWith("-Ddien.") && !a.startsWith("-D" + DienJobOptions.KAFKA_CLIENT_PREFIX))
                .forEach(a -> assertThat(known).as(a).contains(a.substring(2, a.indexOf('='))));
        // and their values are ones the job accepts (the job reads them with DienJobConfig.from at submission)
        Configuration conf = new Configuration();
        for (int i = 1; i < args.size(); i++) {
            String a = args.get(i);
            if (a.startsWith("-D")) {
                conf.setString(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
            } else if (a.equals("--model")) {
                conf.set(DienJobOptions.MODEL_PATH, args.get(++i));
            } else if (a.equals("--bootstrap-servers")) {
                conf.set(DienJobOptions.BOOTSTRAP_SERVERS, args.get(++i));
            }
        }
        DienJobConfig config = DienJobConfig.from(conf);
        assertThat(config.requireBootstrapServers()).isNotBlank();
    }

    @Test
    void everyFlinkKeyIsOneFlinkDefines() throws Exception {
        Set<String> known = flinkOptionKeys();
        assertThat(known).contains("state.backend.type", "execution.checkpointing.incremental");
        Map<String, String> used = new java.util.LinkedHashMap<>();
        String props = documents(COMPOSE).get(0).get("x-flink-config").get("FLINK_PROPERTIES").asText();
        for (String line : props.split("\n")) {
            if (line.contains(":") && !line.trim().startsWith("#")) {
                used.put(line.substring(0, line.indexOf(':')).trim(), "docker-compose.yml");
            }
        }
        flinkDeployment().get("spec").get("flinkConfiguration").fieldNames().forEachRemaining(k -> used.put(k, "flinkdeployment.yaml"));
        for (JsonNode op : documents(OVERLAY.resolve("flinkdeployment-patch.yaml")).get(0)) {
            String path = op.get("path").asText();
            if (path.startsWith("/spec/flinkConfiguration/")) {
                used.put(path.substring("/spec/flinkConfiguration/".length()), "flinkdeployment-patch.yaml");
            }
        }
        assertThat(used).hasSizeGreaterThan(8);
        // What the job sets itself overrides the cluster's settings: such a key here would look set and do nothing.
        Configuration jobSets = new Configuration();
        jobSets.set(DienJobOptions.MODEL_PATH, "bundle");
        DienScoringJob.configure(jobSets, DienJobConfig.from(jobSets));
        Set<String> overridden = new java.util.HashSet<>(jobSets.keySet());
        overridden.removeAll(Set.of(DienJobOptions.MODEL_PATH.key()));
        assertThat(overridden).contains("execution.checkpointing.interval", "state.backend.type");
        for (Map.Entry<String, String> e : used.entrySet()) {
            assertThat(overridden).as(e.getKey() + " in " + e.getValue() + " is set by the job (DienScoringJob.configure), which overrides it: "
                    + "drop it, or use the job's dien.* setting").doesNotContain(e.getKey());
        }
        for (Map.Entry<String, String> e : used.entrySet()) {
            String key = e.getKey();
            Matcher reporter = Pattern.compile("metrics\\.reporter\\.[^.]+\\.(.+)").matcher(key);
            if (reporter.matches()) {
                // per-reporter keys: Flink's reporter options, or the Prometheus reporter's own port
                assertThat(reporter.group(1)).as(key + " in " + e.getValue()).isIn("factory.class", "port", "interval",
                        "scope.delimiter", "filter.includes", "filter.excludes");
            } else {
                assertThat(known).as(key + " in " + e.getValue() + " is not a Flink 2.2 option").contains(key);
            }
        }
    }

    /**
     * Safe defaults for what is exposed: the compose file publishes Flink's REST port and Prometheus on
     * localhost only, and no cluster accepts jar uploads through the web UI (jobs are submitted by the
     * Flink CLI or the Operator, which do not need it).
     */
    @Test
    void restPortIsLocalAndWebSubmissionIsOff() throws Exception {
        JsonNode services = documents(COMPOSE).get(0).get("services");
        List<String> published = new ArrayList<>();
        services.fields().forEachRemaining(e -> {
            if (e.getValue().has("ports")) {
                e.getValue().get("ports").forEach(p -> published.add(e.getKey() + " " + p.asText()));
            }
        });
        assertThat(published).contains("jobmanager 127.0.0.1:8081:8081", "prometheus 127.0.0.1:9090:9090");
        assertThat(published).allSatisfy(p -> assertThat(p.split(" ")[1]).as(p).startsWith("127.0.0.1:"));
        String props = documents(COMPOSE).get(0).get("x-flink-config").get("FLINK_PROPERTIES").asText();
        Configuration compose = new Configuration();
        for (String line : props.split("\n")) {
            if (line.contains(":") && !line.trim().startsWith("#")) {
                compose.setString(line.substring(0, line.indexOf(':')).trim(), line.substring(line.indexOf(':') + 1).trim());
            }
        }
        assertThat(compose.get(org.apache.flink.configuration.WebOptions.SUBMIT_ENABLE)).as("compose web.submit.enable").isFalse();
        Configuration k8s = new Configuration();
        flinkDeployment().get("spec").get("flinkConfiguration").fields()
                .forEachRemaining(e -> k8s.setString(e.getKey(), e.getValue().asText()));
        assertThat(k8s.get(org.apache.flink.configuration.WebOptions.SUBMIT_ENABLE)).as("FlinkDeployment web.submit.enable").isFalse();
        // Flink's default is true: the setting above is what turns it off
        assertThat(new Configuration().get(org.apache.flink.configuration.WebOptions.SUBMIT_ENABLE)).isTrue();
        assertThat(Files.readString(Path.of("deploy/README.md"))).contains("web.submit.enable: false").contains("127.0.0.1");
    }

    /**
     * One state-backend configuration everywhere a cluster is configured by this project: compose,
     * the FlinkDeployment and the local cluster all run the changelog state backend with its state
     * changes next to their checkpoints and CLAIM restores, exactly what the embedded runs and the
     * fault-injection tests get from {@link DienScoringJob#changelogDefaults}.
     */
    @Test
    void everyShippedClusterRunsTheOneStateBackendConfiguration() throws Exception {
        Map<String, Map<String, String>> clusters = new java.util.LinkedHashMap<>();
        Map<String, String> compose = new java.util.LinkedHashMap<>();
        for (String line : documents(COMPOSE).get(0).get("x-flink-config").get("FLINK_PROPERTIES").asText().split("\n")) {
            if (line.contains(":") && !line.trim().startsWith("#")) {
                compose.put(line.substring(0, line.indexOf(':')).trim(), line.substring(line.indexOf(':') + 1).trim());
            }
        }
        clusters.put("docker-compose.yml", compose);
        Map<String, String> k8s = new java.util.LinkedHashMap<>();
        flinkDeployment().get("spec").get("flinkConfiguration").fields().forEachRemaining(e -> k8s.put(e.getKey(), e.getValue().asText()));
        clusters.put("flinkdeployment.yaml", k8s);
        clusters.put("local-cluster", new io.dienflink.local.LocalCluster(Path.of("target", "unused"))
                .flinkConfiguration(io.dienflink.local.LocalCluster.Settings.defaults(), 8081));
        for (Map.Entry<String, Map<String, String>> c : clusters.entrySet()) {
            Configuration withCheckpoints = new Configuration();
            String dir = c.getValue().get("execution.checkpointing.dir");
            assertThat(dir).as(c.getKey() + ": execution.checkpointing.dir").isNotBlank();
            withCheckpoints.setString("execution.checkpointing.dir", dir);
            Map<String, String> expected = DienScoringJob.changelogDefaults(withCheckpoints).toMap();
            assertThat(expected).containsEntry("state.changelog.enabled", "true")
                    .containsEntry("execution.state-recovery.claim-mode", "CLAIM");
            assertThat(c.getValue()).as(c.getKey()).containsAllEntriesOf(expected);
        }
    }

    @Test
    void kustomizeRendersTheOverlay() throws Exception {
        Process p = new ProcessBuilder("kubectl", "kustomize", OVERLAY.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        List<JsonNode> docs = new ArrayList<>();
        YAML.readValues(YAML.getFactory().createParser(out), JsonNode.class).forEachRemaining(docs::add);
        JsonNode fd = docs.stream().filter(d -> d.get("kind").asText().equals("FlinkDeployment")).findFirst().orElseThrow();
        assertThat(fd.get("metadata").get("namespace").asText()).isEqualTo("dien");
        assertThat(fd.get("spec").get("image").asText()).isEqualTo("registry.example.com/dien-flink:0.1.0");
        assertThat(fd.get("spec").get("job").get("parallelism").asInt()).isEqualTo(8);
        assertThat(fd.get("spec").get("job").get("upgradeMode").asText()).isEqualTo("savepoint");
        assertThat(docs.stream().map(d -> d.get("kind").asText()).toList())
                .contains("ServiceAccount", "Role", "RoleBinding", "PersistentVolumeClaim", "FlinkDeployment");
    }

    /** Keys (and fallback keys) of every public static ConfigOption in Flink's *Options classes on the class path. */
    private static Set<String> flinkOptionKeys() throws Exception {
        Set<String> keys = new HashSet<>();
        Enumeration<URL> roots = DeploymentFilesTest.class.getClassLoader().getResources("org/apache/flink");
        Set<String> jars = new HashSet<>();
        while (roots.hasMoreElements()) {
            URL u = roots.nextElement();
            if (u.getProtocol().equals("jar")) {
                jars.add(u.getPath().substring("file:".length(), u.getPath().indexOf("!")));
            }
        }
        for (String jar : jars) {
            try (JarFile jf = new JarFile(jar)) {
                Enumeration<JarEntry> entries = jf.entries();
                while (entries.hasMoreElements()) {
                    String n = entries.nextElement().getName();
                    if (n.startsWith("org/apache/flink/") && n.endsWith("Options.class") && !n.contains("$")) {
                        try {
                            keys.addAll(optionKeys(Class.forName(n.replace('/', '.').replace(".class", ""), false,
                                    DeploymentFilesTest.class.getClassLoader())));
                        } catch (Throwable t) {
                            // a class that cannot load here cannot define options this job uses
                        }
                    }
                }
            }
        }
        return keys;
    }

    private static Set<String> optionKeys(Class<?> c) {
        Set<String> keys = new HashSet<>();
        for (Field f : c.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && ConfigOption.class.isAssignableFrom(f.getType())) {
                try {
                    ConfigOption<?> o = (ConfigOption<?>) f.get(null);
                    keys.add(o.key());
                    for (FallbackKey k : o.fallbackKeys()) {
                        keys.add(k.getKey());
                    }
                } catch (ReflectiveOperationException | LinkageError e) {
                    // skip
                }
            }
        }
        return keys;
    }
}
