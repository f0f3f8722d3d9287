package io.dienflink.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.GeneralCodingRules;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The layering the project's tree promises, checked on the compiled main classes. */
class ArchitectureTest {
    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.dienflink");
    }

    @Test
    void modelHasNoFlinkOrKafkaDependency() {
        noClasses().that().resideInAPackage("io.dienflink.model..")
                .should().dependOnClassesThat().resideInAnyPackage("org.apache.flink..", "org.apache.kafka..")
                .because("the model core must be usable and testable without Flink (DEVELOPERS.md)")
                .check(classes);
    }

    @Test
    void modelDoesNotDependOnTheRestOfTheProject() {
        noClasses().that().resideInAPackage("io.dienflink.model..")
                .should().dependOnClassesThat().resideInAnyPackage("io.dienflink.job..", "io.dienflink.kafka..",
                        "io.dienflink.cli..", "io.dienflink.train..", "io.dienflink.bench..")
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
