package dev.lightspeed.orchestrator;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;
import dev.lightspeed.orchestrator.core.Command;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package map of docs/architecture.md, checked on the server's compiled classes (tests and
 * the generated protobuf classes excluded): arrows run only from outer packages to inner ones,
 * and the inner packages stay free of the transport. A new import that breaks the map fails the
 * build here, naming the class and the import, instead of slowly tangling the layers again.
 */
class ArchitectureTest {
  private static final String ROOT = "dev.lightspeed.orchestrator";

  private static JavaClasses classes;

  @BeforeAll
  static void importServerClasses() {
    // Only the server's own output directory: scanning every jar of the classpath for the
    // package would take seconds, and the protobuf classes come from the proto module's jar.
    Location serverClasses =
        Location.of(Command.class.getProtectionDomain().getCodeSource().getLocation());
    classes = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importLocations(Set.of(serverClasses));
  }

  /**
   * The package map of docs/architecture.md, outermost first: boot; then the server's wiring
   * (server) and the data directory (durability), side by side; the dashboard's HTTP port; the
   * security in front of the service; the gRPC adapter; metrics; hosting; journal; core. A
   * cluster node's replicated groups and their gRPC service (replication) sit beside durability:
   * they use the gRPC adapter's mappers and reads, and nothing inner knows them. Each
   * layer lists who may use it, so an arrow back up (or across, between server and durability)
   * fails here with the class and what it uses.
   */
  @Test
  void dependenciesRunFromOuterToInnerPackagesOnly() {
    layeredArchitecture()
        .consideringOnlyDependenciesInLayers()
        .layer("boot").definedBy(ROOT + ".boot..")
        .layer("server").definedBy(ROOT + ".server..")
        .layer("durability").definedBy(ROOT + ".durability..")
        .layer("replication").definedBy(ROOT + ".replication..")
        .layer("dashboard").definedBy(ROOT + ".dashboard..")
        .layer("security").definedBy(ROOT + ".security..")
        .layer("grpc").definedBy(ROOT + ".grpc..")
        .layer("metrics").definedBy(ROOT + ".metrics..")
        .layer("host").definedBy(ROOT + ".host..")
        .layer("journal").definedBy(ROOT + ".journal..")
        .layer("core").definedBy(ROOT + ".core..")
        .whereLayer("boot").mayNotBeAccessedByAnyLayer()
        .whereLayer("server").mayOnlyBeAccessedByLayers("boot")
        .whereLayer("durability").mayOnlyBeAccessedByLayers("boot")
        .whereLayer("dashboard").mayOnlyBeAccessedByLayers("server", "boot")
        .whereLayer("security").mayOnlyBeAccessedByLayers("dashboard", "server", "boot")
        .whereLayer("grpc").mayOnlyBeAccessedByLayers(
            "replication", "security", "dashboard", "server", "boot")
        .whereLayer("replication").mayOnlyBeAccessedByLayers("server", "boot")
        .whereLayer("metrics").mayOnlyBeAccessedByLayers(
            "replication", "grpc", "security", "dashboard", "server", "boot")
        .whereLayer("host").mayOnlyBeAccessedByLayers(
            "metrics", "replication", "grpc", "security", "dashboard", "server", "durability",
            "boot")
        .whereLayer("journal").mayOnlyBeAccessedByLayers(
            "host", "metrics", "replication", "grpc", "security", "dashboard", "server",
            "durability", "boot")
        .whereLayer("core").mayOnlyBeAccessedByLayers(
            "journal", "host", "metrics", "replication", "grpc", "security", "dashboard", "server",
            "durability", "boot")
        .check(classes);
  }

  /**
   * Hosting (the registry, the handles, the state machine) deals in core values and journal
   * records only: no gRPC, and nothing of the API's messages. Streams are listeners it hands
   * values to, and the call's deadline and caller reach it through CallContext, so the same
   * hosting can sit behind another transport or a replicated log.
   */
  @Test
  void hostImportsNoGrpcAndNoApiMessages() {
    noClasses().that().resideInAPackage(ROOT + ".host..")
        .should().dependOnClassesThat().resideInAnyPackage("io.grpc..", ROOT + ".v1..")
        .check(classes);
  }

  /**
   * The core is a deterministic state machine in plain Java: no gRPC, no protobuf (neither the
   * runtime nor the API's or the journal's generated messages), so it can run behind any
   * transport and any log.
   */
  @Test
  void coreImportsNoGrpcAndNoProtobuf() {
    noClasses().that().resideInAPackage(ROOT + ".core..")
        .should().dependOnClassesThat().resideInAnyPackage(
            "io.grpc..", "com.google.protobuf..", ROOT + ".v1..", ROOT + ".journal.v1..")
        .check(classes);
  }

  /**
   * The journal is files and its own records: no gRPC, and nothing of the API's messages, so an
   * API change never changes the disk format.
   */
  @Test
  void journalImportsNoGrpcAndNoApiMessages() {
    noClasses().that().resideInAPackage(ROOT + ".journal..")
        .should().dependOnClassesThat().resideInAnyPackage("io.grpc..", ROOT + ".v1..")
        .check(classes);
  }
}
