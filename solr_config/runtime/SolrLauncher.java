import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import org.apache.solr.cloud.MiniSolrCloudCluster;
import org.apache.solr.cloud.ZkTestServer;
import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;

/**
 * Starts a local Solr 9 from the jars on the classpath (no Solr distribution needed).
 *
 * <pre>
 *   standalone:  java -cp 'lib/*:classes' SolrLauncher --home DIR [--port 8983|0] [--conf CONFDIR] [--confname pops]
 *   SolrCloud:   java -cp 'lib/*:classes' SolrLauncher --home DIR --cloud N [--port 8983|0] [--zk-port 9983|0]
 *                [--conf CONFDIR] [--confname pops]
 *   either:      [--watch-pid PID]   stop when process PID ends (a test run that dies leaves no Solr behind)
 * </pre>
 *
 * Standalone: one Jetty on 127.0.0.1 serving the solr home DIR (cores found there survive restarts); the
 * configset CONFDIR is copied to DIR/configsets/NAME/conf, so cores can be created with configSet=NAME.
 *
 * SolrCloud: an embedded ZooKeeper on --zk-port plus N nodes on --port, --port + 1, ... (0: free ports), all in
 * this JVM, under DIR/cluster (made anew at every start: this cluster is for development and tests, its data
 * does not survive a restart). The configset is uploaded to ZooKeeper as NAME.
 *
 * Once serving, prints one line SOLR_URL=http://127.0.0.1:PORT/solr per node, ZK_HOST=host:port/solr in cloud
 * mode, then SOLR_READY. Runs until SIGTERM/SIGINT, which stops the nodes (and ZooKeeper) cleanly.
 */
public class SolrLauncher {

  static final String SOLR_XML =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          + "<solr>\n"
          + "  <str name=\"allowPaths\">${solr.allowPaths:}</str>\n"
          + "  <str name=\"configSetBaseDir\">${configSetBaseDir:configsets}</str>\n"
          + "  <solrcloud>\n"
          + "    <str name=\"host\">127.0.0.1</str>\n"
          + "    <int name=\"hostPort\">${hostPort:8983}</int>\n"
          + "    <str name=\"hostContext\">${hostContext:solr}</str>\n"
          + "  </solrcloud>\n"
          + "  <metrics enabled=\"${metricsEnabled:false}\"/>\n"
          + "</solr>\n";

  public static void main(String[] argv) throws Exception {
    Map<String, String> a = parse(argv);
    Path home = Path.of(a.getOrDefault("--home", "solr-home")).toAbsolutePath();
    Files.createDirectories(home.resolve("logs"));
    if (System.getProperty("solr.log.dir") == null) {
      System.setProperty("solr.log.dir", home.resolve("logs").toString());
    }
    String confName = a.getOrDefault("--confname", "pops");
    Path conf = a.containsKey("--conf") ? Path.of(a.get("--conf")).toAbsolutePath() : null;
    int nodes = Integer.parseInt(a.getOrDefault("--cloud", "0"));
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    if (a.containsKey("--watch-pid")) {
      watch(Long.parseLong(a.get("--watch-pid")));
    }
    int port = Integer.parseInt(a.getOrDefault("--port", "8983"));
    if (nodes > 0) {
      cloud(out, nodes, port, Integer.parseInt(a.getOrDefault("--zk-port", "0")), home, conf, confName);
    } else {
      standalone(out, port, home, conf, confName);
    }
    out.println("SOLR_READY");
    Thread.currentThread().join();
  }

  /** Exits (running the shutdown hooks, so Solr stops cleanly) once process pid has ended. */
  static void watch(long pid) {
    Thread t =
        new Thread(
            () -> {
              while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                try {
                  Thread.sleep(1000);
                } catch (InterruptedException e) {
                  return;
                }
              }
              System.exit(0);
            },
            "parent-watch");
    t.setDaemon(true);
    t.start();
  }

  static Map<String, String> parse(String[] argv) {
    Map<String, String> a = new HashMap<>();
    for (int i = 0; i < argv.length; i++) {
      if (!argv[i].startsWith("--") || i + 1 >= argv.length) {
        throw new IllegalArgumentException("expected --option value pairs, got: " + String.join(" ", argv));
      }
      a.put(argv[i], argv[++i]);
    }
    return a;
  }

  static void standalone(PrintStream out, int port, Path home, Path conf, String confName) throws Exception {
    Path xml = home.resolve("solr.xml");
    if (!Files.exists(xml)) {
      Files.writeString(xml, SOLR_XML, StandardCharsets.UTF_8);
    }
    if (conf != null) {
      Path target = home.resolve("configsets").resolve(confName).resolve("conf");
      replaceTree(conf, target);
    }
    JettySolrRunner jetty =
        new JettySolrRunner(
            home.toString(),
            new Properties(),
            JettyConfig.builder().setPort(port).setContext("/solr").stopAtShutdown(true).build());
    jetty.start();
    out.println("SOLR_URL=" + jetty.getBaseUrl());
  }

  static void cloud(PrintStream out, int n, int port, int zkPort, Path home, Path conf, String confName)
      throws Exception {
    Path base = home.resolve("cluster");
    deleteTree(base);
    // what MiniSolrCloudCluster.Builder sets: the Overseer runs collection commands and cluster state updates
    System.setProperty("solr.distributedCollectionConfigSetExecution", "false");
    System.setProperty("solr.distributedClusterStateUpdates", "false");
    // a ZooKeeper of our own, so that its port is the one asked for (the cluster's own takes any free port)
    ZkTestServer zk = new ZkTestServer(base.resolve("zookeeper/server1/data"), zkPort);
    zk.run();
    MiniSolrCloudCluster cluster =
        new MiniSolrCloudCluster(
            0,
            base,
            MiniSolrCloudCluster.DEFAULT_CLOUD_SOLR_XML,
            JettyConfig.builder().setContext("/solr").stopAtShutdown(false).build(),
            zk,
            true);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    cluster.shutdown();
                    zk.shutdown();
                  } catch (Exception e) {
                    e.printStackTrace();
                  }
                },
                "solr-cluster-shutdown"));
    if (conf != null) {
      cluster.uploadConfigSet(conf, confName);
    }
    for (int i = 0; i < n; i++) {
      JettyConfig node =
          JettyConfig.builder().setPort(port == 0 ? 0 : port + i).stopAtShutdown(false).build();
      cluster.startJettySolrRunner("node" + (i + 1), "/solr", node);
    }
    cluster.waitForAllNodes(60);
    out.println("ZK_HOST=" + zk.getZkAddress());
    for (JettySolrRunner j : cluster.getJettySolrRunners()) {
      out.println("SOLR_URL=" + j.getBaseUrl());
    }
  }

  static void replaceTree(Path from, Path to) throws IOException {
    deleteTree(to);
    Files.createDirectories(to);
    Files.walkFileTree(
        from,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
            Files.createDirectories(to.resolve(from.relativize(dir).toString()));
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
            Files.copy(file, to.resolve(from.relativize(file).toString()), StandardCopyOption.REPLACE_EXISTING);
            return FileVisitResult.CONTINUE;
          }
        });
  }

  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
            Files.delete(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
            Files.delete(dir);
            return FileVisitResult.CONTINUE;
          }
        });
  }
}
