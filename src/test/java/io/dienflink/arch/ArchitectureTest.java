package io.dienflink.arch;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.GeneralCodingRules;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The layering the project's tree promises, checked on the compiled main classes. */
class ArchitectureTest {
    /** The packages the job jar takes whole (pom.xml, the job-jar execution's filter). */
    private static final List<String> JOB_JAR_PACKAGES =
            List.of("io.dienflink.model", "io.dienflink.job", "io.dienflink.shadow", "io.dienflink.kafka",
                    "io.dienflink.avro", "io.dienflink.evaluate");
    /** The command-line classes the job jar takes from {@code cli} (the same filter), nested classes included. */
    private static final Set<String> JOB_JAR_CLI_CLASSES = Set.of("JobMain", "RunCommand", "MigrateCommand", "EvaluateJobCommand", "JobSettings",
            "InputException", "UsageException");

    /** Whether the job jar holds the class: everything else of the project is in the tool jar only. */
    private static final DescribedPredicate<JavaClass> IN_THE_JOB_JAR = new DescribedPredicate<>("are in the job jar") {
        @Override
        public boolean test(JavaClass c) {
            String pkg = c.getPackageName();
            if (pkg.equals("io.dienflink.cli")) {
                String simple = c.getName().substring(pkg.length() + 1);
                int nested = simple.indexOf('$');
                return JOB_JAR_CLI_CLASSES.contains(nested < 0 ? simple : simple.substring(0, nested));
            }
            return JOB_JAR_PACKAGES.stream().anyMatch(p -> pkg.equals(p) || pkg.startsWith(p + "."));
        }
    };

    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.dienflink");
    }

    @Test
    void modelHasNoFlinkKafkaOrNativeDependency() {
        noClasses().that().resideInAPackage("io.dienflink.model..")
                .should().dependOnClassesThat().resideInAnyPackage("org.apache.flink..", "org.apache.kafka..", "org.nd4j..")
                .because("the model core must be usable and testable without Flink, and serve without native code")
                .check(classes);
    }

    @Test
    void modelDoesNotDependOnTheRestOfTheProject() {
        noClasses().that().resideInAPackage("io.dienflink.model..")
                .should().dependOnClassesThat(resideInAPackage("io.dienflink..")
                        .and(resideOutsideOfPackage("io.dienflink.model..")))
                .because("the model core is the bottom layer: the job, the tools, the reference model and the "
                        + "benchmarks build on it")
                .check(classes);
    }

    @Test
    void theJobJarNeedsNothingFromTheToolJar() {
        noClasses().that(IN_THE_JOB_JAR)
                .should().dependOnClassesThat(resideInAPackage("io.dienflink..").and(DescribedPredicate.not(IN_THE_JOB_JAR).as("not in the job jar")))
                .because("the job jar holds only model, job, kafka, avro, evaluate and the job's commands: local and embedded "
                        + "infrastructure, benchmarks, the trainer, the reference model and the other tools ship "
                        + "in the tool jar only")
                .check(classes);
    }

    @Test
    void onlyTheCliWritesToStandardStreams() {
        noClasses().that().resideOutsideOfPackage("io.dienflink.cli..")
                .should(GeneralCodingRules.ACCESS_STANDARD_STREAMS)
                .because("everything else logs through SLF4J")
                .check(classes);
    }

    @Test
    void noUtilityDumpingGrounds() {
        noClasses().should().resideInAnyPackage("..util..", "..utils..", "..common..", "..helpers..")
                .check(classes);
    }
}
