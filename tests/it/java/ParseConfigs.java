// Reads config files with the parsers the JVM services themselves use: XML through the JDK's
// DOM parser (logback's is the JDK's SAX parser), everything else through java.util.Properties
// (Kafka reads server.properties, ZooKeeper zoo.cfg, reload4j and log4j2 their .properties
// that way). Prints "file<TAB>key<TAB>value" per property and "file<TAB><root element>" per
// XML file; exits 1 if any file does not parse. Run as `java ParseConfigs.java FILE...`.
import java.io.File;
import java.io.FileInputStream;
import java.io.InputStream;
import java.util.Properties;
import java.util.TreeSet;
import javax.xml.parsers.DocumentBuilderFactory;

public class ParseConfigs {
    public static void main(String[] args) {
        int failed = 0;
        for (String path : args) {
            try {
                if (path.endsWith(".xml")) {
                    DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
                    String root = factory.newDocumentBuilder().parse(new File(path))
                            .getDocumentElement().getTagName();
                    System.out.println(path + "\t<" + root + ">");
                } else {
                    Properties props = new Properties();
                    try (InputStream in = new FileInputStream(path)) {
                        props.load(in);
                    }
                    for (String key : new TreeSet<>(props.stringPropertyNames())) {
                        System.out.println(path + "\t" + key + "\t" + props.getProperty(key));
                    }
                }
            } catch (Exception e) {
                System.err.println(path + ": " + e);
                failed++;
            }
        }
        System.exit(failed == 0 ? 0 : 1);
    }
}
