// Test driver for tests/flink_memory_oracle.rs: runs Flink's own BashJavaUtils (the class that
// bin/config.sh calls through `runBashJavaUtilsCmd` before a JobManager or TaskManager JVM starts)
// on many configurations in one JVM, so that hundreds of cases cost one JVM start.
//
// In:  args[0], a UTF-8 file with one case per line: `<id>\t<arg>\t<arg>...`, where the args are
//      exactly what bin/config.sh passes to BashJavaUtils.main (`GET_TM_RESOURCE_PARAMS
//      --configDir <dir> -D<key>=<value>...`), except that an arg `-R<key>=<memory>` stands for the
//      operator's conversion of a FlinkDeployment's resource memory into <key> (see
//      operatorResourceMemory below) and becomes `-D<key>=<converted>`.
// Out: args[1], one line per case: `<id>\tok\t<result line 1>\t<result line 2>` with the lines
//      BashJavaUtils printed after its `BASH_JAVA_UTILS_EXEC_RESULT:` prefix (the JVM parameters,
//      then the dynamic memory configuration), or `<id>\terr\t<exception chain>` when Flink refuses
//      the configuration (bin/config.sh then exits 1 and the process never starts).
//
// BashJavaUtils.main is called as is: it loads --configDir/config.yaml plus the -D properties
// (FlinkConfigLoader), derives the process memory spec (TaskExecutorProcessUtils /
// JobManagerProcessUtils) and prints the result lines to System.out, which is captured per case.

import org.apache.flink.configuration.MemorySize;
import org.apache.flink.runtime.util.bash.BashJavaUtils;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

public final class BashJavaUtilsBatch {
    private BashJavaUtilsBatch() {}

    public static void main(String[] args) throws Exception {
        List<String> cases = Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8);
        PrintStream realOut = System.out;
        StringBuilder results = new StringBuilder();
        for (String line : cases) {
            if (line.isEmpty()) {
                continue;
            }
            String[] fields = line.split("\t", -1);
            String id = fields[0];
            String[] utilArgs = Arrays.copyOfRange(fields, 1, fields.length);
            ByteArrayOutputStream captured = new ByteArrayOutputStream();
            try {
                for (int i = 0; i < utilArgs.length; i++) {
                    if (utilArgs[i].startsWith("-R")) {
                        String[] kv = utilArgs[i].substring(2).split("=", 2);
                        utilArgs[i] = "-D" + kv[0] + "=" + operatorResourceMemory(kv[1]);
                    }
                }
                System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
                BashJavaUtils.main(utilArgs);
                System.out.flush();
                System.setOut(realOut);
                List<String> lines = new ArrayList<>();
                for (String out : captured.toString(StandardCharsets.UTF_8).split("\n")) {
                    if (out.startsWith(BashJavaUtils.EXECUTION_PREFIX)) {
                        lines.add(out.substring(BashJavaUtils.EXECUTION_PREFIX.length()).trim());
                    }
                }
                results.append(id).append("\tok");
                for (String l : lines) {
                    results.append('\t').append(l);
                }
                results.append('\n');
            } catch (Throwable t) {
                System.setOut(realOut);
                results.append(id).append("\terr\t").append(describe(t)).append('\n');
            }
        }
        Files.writeString(Path.of(args[1]), results.toString(), StandardCharsets.UTF_8);
    }

    /** The exception and its causes on one line. */
    private static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (sb.length() > 0) {
                sb.append(" | caused by: ");
            }
            sb.append(c.getClass().getName()).append(": ").append(c.getMessage());
            if (c.getCause() == c) {
                break;
            }
        }
        return sb.toString().replace('\n', ' ').replace('\t', ' ');
    }

    /**
     * How the Flink Kubernetes Operator turns `spec.{jobManager,taskManager}.resource.memory`
     * (1.15: FlinkConfigBuilder.setResource) or `resources.requests/limits.memory` (main:
     * FlinkConfigBuilder.setResourceRequirements) into `*.memory.process.size`:
     * ResourceConfigUtils.parseResourceMemoryString (FlinkConfigBuilder.parseResourceMemoryString
     * in release-1.15.0) tries Flink's MemorySize.parse and prints its toString(); on failure it
     * upper-cases the text, drops a trailing B, spells a trailing I as i and reads it as a
     * Kubernetes Quantity, writing the number of bytes. The Quantity fallback is reproduced here
     * for plain integers and binary suffixes (all flinkops emits); anything else is an error.
     */
    static String operatorResourceMemory(String memory) {
        try {
            return MemorySize.parse(memory).toString();
        } catch (IllegalArgumentException e) {
            String q = memory.trim().replaceAll("\\s", "").toUpperCase();
            if (q.endsWith("B")) {
                q = q.substring(0, q.length() - 1);
            }
            if (q.endsWith("I")) {
                q = q.substring(0, q.length() - 1) + "i";
            }
            String[] suffixes = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
            BigInteger multiplier = BigInteger.ONE;
            for (int i = 0; i < suffixes.length; i++) {
                if (q.endsWith(suffixes[i])) {
                    multiplier = BigInteger.valueOf(1024).pow(i + 1);
                    q = q.substring(0, q.length() - 2);
                    break;
                }
            }
            if (!q.matches("[0-9]+")) {
                throw new IllegalArgumentException(
                        "memory " + memory + " is not a quantity this test driver converts", e);
            }
            return new BigInteger(q).multiply(multiplier).toString();
        }
    }
}
