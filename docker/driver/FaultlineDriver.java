// Faultline's client driver: one process = one Curator client (one ZooKeeper session at a time, as Curator
// manages it), driven by the harness through JSON lines. It starts as a spare and is bound to a connect string
// by its first line ({"id":0,"op":"connect","connect":"h:p,...",...}). Each request line is {"id":N,"op":...}; each answer
// is {"id":N,"type":"ok"|"fail"|"info",...} with the connection and leadership events seen since the previous
// answer, each with how long before this answer it happened (agoNs), so the harness can place it on its clock.
// Requests run one at a time on the main thread: InterProcessMutex must be released by the thread that took it.
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;

public final class FaultlineDriver {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final PrintStream OUT = new PrintStream(System.out, false, StandardCharsets.UTF_8);

  /** InterProcessMutex keeps the lock node's path to itself; the fenced variant checks that node in each write. */
  static final class Mutex extends InterProcessMutex {
    Mutex(CuratorFramework client, String path) {
      super(client, path);
    }

    String lockNode() {
      return getLockPath();
    }
  }

  private record Event(String name, long atNs, String detail) {}

  private final List<Event> events = new ArrayList<>();
  private final CuratorFramework client;
  private Mutex mutex;
  private String lockNode;
  private LeaderLatch latch;

  private FaultlineDriver(CuratorFramework client) {
    this.client = client;
  }

  private void record(String name, String detail) {
    synchronized (events) {
      events.add(new Event(name, System.nanoTime(), detail));
    }
  }

  /** The Debian jar's file name carries the version (its manifest does not): curator-framework-5.7.1.jar. */
  private static String curatorVersion() {
    try {
      String jar = Files.readSymbolicLink(Path.of("/usr/share/java/curator-framework.jar")).getFileName().toString();
      return jar.replaceAll("^curator-framework-(.*)\\.jar$", "$1");
    } catch (Exception e) {
      return "unknown";
    }
  }

  private static ObjectNode versions() {
    ObjectNode node = JSON.createObjectNode();
    node.put("pid", ProcessHandle.current().pid());
    node.put("curator", curatorVersion());
    node.put("zookeeper", org.apache.zookeeper.Version.getFullVersion().replaceAll(",.*", "").replace("-${mvngit.commit.id}", ""));
    return node;
  }

  /**
   * Starts as a spare: loads its classes (the slow part of a JVM start), says so, and waits for the harness to
   * bind it to a connect string. The harness keeps a spare or two, so opening a client costs a connect, not a JVM.
   */
  public static void main(String[] args) throws Exception {
    // Loading these is most of the start-up; --check (the image build) proves every jar is there.
    Class.forName("org.apache.curator.framework.recipes.locks.InterProcessMutex");
    Class.forName("org.apache.curator.framework.recipes.leader.LeaderLatch");
    Class.forName("org.apache.zookeeper.ClientCnxnSocketNIO");
    Class.forName("org.slf4j.impl.StaticLoggerBinder");
    CuratorFrameworkFactory.builder().connectString("127.0.0.1:1").retryPolicy(new ExponentialBackoffRetry(1, 1)).build();
    JSON.readTree("{\"warm\":true}");
    if (args.length == 1 && args[0].equals("--check")) {
      System.out.println(versions());
      return;
    }
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    ObjectNode spare = versions();
    spare.put("spare", true);
    sendLine(spare);
    String line = in.readLine();
    if (line == null) Runtime.getRuntime().halt(0);
    JsonNode bind = JSON.readTree(line);
    String connect = bind.path("connect").asText();
    int connectTimeoutMs = bind.path("connectTimeoutMs").asInt(3000);
    // How long to wait for the first connection: longer than Curator's connection timeout, because the harness
    // connects spares in the background, before anybody waits for them.
    int waitMs = bind.path("waitMs").asInt(connectTimeoutMs);
    CuratorFramework client =
        CuratorFrameworkFactory.builder()
            .connectString(connect)
            .sessionTimeoutMs(bind.path("sessionTimeoutMs").asInt(5000))
            .connectionTimeoutMs(connectTimeoutMs)
            .retryPolicy(new ExponentialBackoffRetry(100, 3))
            .build();
    FaultlineDriver driver = new FaultlineDriver(client);
    client.getConnectionStateListenable().addListener((c, state) -> driver.record("connection", state.name()));
    client.start();
    ObjectNode ready = versions();
    ready.put("id", bind.path("id").asLong());
    if (!client.blockUntilConnected(waitMs, TimeUnit.MILLISECONDS)) {
      ready.put("type", "fail");
      ready.put("error", "not connected to " + connect + " within " + waitMs + " ms");
      driver.send(ready);
      Runtime.getRuntime().halt(2);
    }
    ready.put("type", "ok");
    driver.send(ready);
    driver.serve(in);
  }

  /**
   * Requests queue up for the main thread, except close: the reader thread closes the client at once, so a
   * retired process ends its session even while an op of it still blocks (a lock wait, a retry loop).
   */
  private void serve(BufferedReader in) throws Exception {
    BlockingQueue<JsonNode> queue = new LinkedBlockingQueue<>();
    Thread reader =
        new Thread(
            () -> {
              try {
                String line;
                while ((line = in.readLine()) != null) {
                  if (line.isBlank()) continue;
                  JsonNode request = JSON.readTree(line);
                  if (request.path("op").asText().equals("close")) {
                    client.close();
                    ObjectNode reply = JSON.createObjectNode();
                    reply.put("id", request.path("id").asLong());
                    reply.put("type", "ok");
                    send(reply);
                    break;
                  }
                  queue.put(request);
                }
              } catch (Exception e) {
                System.err.println("driver input: " + e);
              }
              // End of input or close: the harness is gone or done. halt: Curator's threads must not linger.
              Runtime.getRuntime().halt(0);
            },
            "faultline-input");
    reader.setDaemon(true);
    reader.start();
    for (; ; ) {
      JsonNode request = queue.take();
      ObjectNode reply = JSON.createObjectNode();
      reply.put("id", request.path("id").asLong());
      try {
        handle(request.path("op").asText(), request, reply);
      } catch (Exception e) {
        failure(e, reply);
      }
      send(reply);
    }
  }

  private void handle(String op, JsonNode request, ObjectNode reply) throws Exception {
    switch (op) {
      case "acquire" -> {
        if (mutex == null) mutex = new Mutex(client, request.path("path").asText());
        if (mutex.acquire(request.path("timeoutMs").asLong(), TimeUnit.MILLISECONDS)) {
          lockNode = mutex.lockNode();
          reply.put("type", "ok");
          reply.putObject("value").put("node", lockNode);
        } else {
          // Curator deleted its lock node before returning false: nothing is held.
          reply.put("type", "fail");
          reply.put("error", "not-acquired");
        }
      }
      case "release" -> {
        if (mutex == null || !mutex.isAcquiredInThisProcess()) {
          reply.put("type", "fail");
          reply.put("error", "not-held");
          return;
        }
        mutex.release();
        lockNode = null;
        reply.put("type", "ok");
      }
      case "campaign" -> {
        if (latch == null) {
          latch = new LeaderLatch(client, request.path("path").asText(), request.path("term").asText());
          latch.addListener(
              new LeaderLatchListener() {
                @Override
                public void isLeader() {
                  record("leader", "gained");
                }

                @Override
                public void notLeader() {
                  record("leader", "lost");
                }
              });
          latch.start();
        }
        if (latch.await(request.path("timeoutMs").asLong(), TimeUnit.MILLISECONDS)) {
          reply.put("type", "ok");
          reply.putObject("value").put("node", latch.getOurPath());
        } else {
          reply.put("type", "fail");
          reply.put("error", "not-leader");
        }
      }
      case "resign" -> {
        if (latch == null) {
          reply.put("type", "fail");
          reply.put("error", "not-campaigning");
          return;
        }
        LeaderLatch closing = latch;
        latch = null;
        closing.close();
        reply.put("type", "ok");
      }
      case "write" -> write(request, reply);
      default -> {
        reply.put("type", "fail");
        reply.put("error", "unknown-op " + op);
      }
    }
  }

  /**
   * Appends a persistent-sequential child to the log: the protected write. fence: the write is a multi that first
   * checks that znode (the holder's lock node, the leader's latch node) still exists, so a holder whose session
   * died cannot write. leader: refuse to write unless the latch says we lead.
   */
  private void write(JsonNode request, ObjectNode reply) throws Exception {
    if (request.path("leader").asBoolean(false) && (latch == null || !latch.hasLeadership())) {
      reply.put("type", "fail");
      reply.put("error", "not-leader");
      return;
    }
    String child = request.path("log").asText() + "/w-" + request.path("token").asText() + "-";
    byte[] data = request.path("token").asText().getBytes(StandardCharsets.UTF_8);
    String fence = request.path("fence").isTextual() ? request.path("fence").asText() : null;
    String created;
    if (fence == null) {
      created = client.create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath(child, data);
    } else {
      CuratorOp check = client.transactionOp().check().forPath(fence);
      CuratorOp create =
          client.transactionOp().create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath(child, data);
      created = client.transaction().forOperations(check, create).get(1).getResultPath();
    }
    reply.put("type", "ok");
    reply.putObject("value").put("path", created);
  }

  /** The server refused (the op did not happen): fail. Anything else (connection, session, timeout): info. */
  private static void failure(Exception e, ObjectNode reply) {
    if (e instanceof KeeperException ke) {
      KeeperException.Code code = ke.code();
      boolean definite =
          switch (code) {
            case NONODE, NODEEXISTS, BADVERSION, NOTEMPTY, NOCHILDRENFOREPHEMERALS, BADARGUMENTS, NOAUTH -> true;
            default -> false;
          };
      reply.put("type", definite ? "fail" : "info");
      reply.put("error", code.name().toLowerCase());
      return;
    }
    reply.put("type", "info");
    reply.put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
  }

  private void send(ObjectNode reply) {
    long now = System.nanoTime();
    synchronized (events) {
      if (!events.isEmpty()) {
        var list = reply.putArray("events");
        for (Event e : events) {
          ObjectNode item = list.addObject();
          item.put("event", e.name());
          item.put("state", e.detail());
          item.put("agoNs", now - e.atNs());
        }
        events.clear();
      }
    }
    sendLine(reply);
  }

  private static void sendLine(ObjectNode line) {
    synchronized (OUT) {
      OUT.println(line.toString());
      OUT.flush();
    }
  }
}
