package io.github.cdklifecyclecommandhook.eventbridge;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.event.ruler.Machine;

/**
 * The library's EventBridge rules and the stand-in's matcher, held to AWS's
 * event-ruler. The cases come from write-cases.ts (the cases.file property).
 */
class EventPatternTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static JsonNode cases;

  @BeforeAll
  static void readCases() throws Exception {
    String file = System.getProperty("cases.file");
    cases = JSON.readTree(new File(file));
  }

  /** Pattern id to the ids of the events event-ruler matches it with. */
  private static Map<String, Set<String>> eventRuler(JsonNode patterns, JsonNode events) throws Exception {
    Machine machine = new Machine();
    Map<String, Set<String>> matched = new LinkedHashMap<>();
    for (JsonNode p : patterns) {
      machine.addRule(p.get("id").asText(), JSON.writeValueAsString(p.get("pattern")));
      matched.put(p.get("id").asText(), new HashSet<>());
    }
    for (JsonNode e : events) {
      for (String rule : machine.rulesForJSONEvent(JSON.writeValueAsString(e.get("event")))) {
        matched.get(rule).add(e.get("id").asText());
      }
    }
    return matched;
  }

  private static Set<String> texts(JsonNode array) {
    Set<String> out = new HashSet<>();
    if (array != null) array.forEach(n -> out.add(n.asText()));
    return out;
  }

  private static String report(List<String> mismatches) {
    return mismatches.size() + " pairs disagree:\n  " + String.join("\n  ", mismatches.subList(0, Math.min(40, mismatches.size())));
  }

  @Test
  void everyRuleOfTheLibraryMatchesExactlyTheEventsItShould() throws Exception {
    JsonNode rules = cases.get("rules");
    JsonNode events = cases.get("events");
    assertTrue(rules.size() > 0, "no rule was synthesized");
    Map<String, Set<String>> actual = eventRuler(rules, events);
    List<String> mismatches = new ArrayList<>();
    for (JsonNode rule : rules) {
      String id = rule.get("id").asText();
      Set<String> expected = texts(cases.get("expected").get(id));
      assertFalse(expected.isEmpty(), id + " should match some event");
      for (JsonNode e : events) {
        String event = e.get("id").asText();
        boolean want = expected.contains(event);
        if (want != actual.get(id).contains(event)) {
          mismatches.add(id + (want ? " does not match " : " matches ") + event + "\n    pattern " + rule.get("pattern"));
        }
      }
    }
    assertTrue(mismatches.isEmpty(), () -> report(mismatches));
  }

  @Test
  void theStandInMatchesAsEventRulerDoes() throws Exception {
    List<JsonNode> patternGroups = List.of(cases.get("rules"), cases.get("operatorPatterns"));
    List<JsonNode> eventGroups = List.of(cases.get("events"), cases.get("operatorEvents"));
    List<String> mismatches = new ArrayList<>();
    int pairs = 0;
    for (int g = 0; g < 2; g++) {
      Map<String, Set<String>> actual = eventRuler(patternGroups.get(g), eventGroups.get(g));
      for (JsonNode p : patternGroups.get(g)) {
        String id = p.get("id").asText();
        JsonNode answers = cases.get("standIn").get(id);
        Set<String> matched = texts(answers.get("matched"));
        Set<String> refused = texts(answers.get("refused"));
        for (JsonNode e : eventGroups.get(g)) {
          String event = e.get("id").asText();
          pairs++;
          if (refused.contains(event)) {
            mismatches.add(id + ": the stand-in refuses the pattern on " + event);
          } else if (matched.contains(event) != actual.get(id).contains(event)) {
            mismatches.add(id + ": event-ruler " + (actual.get(id).contains(event) ? "matches " : "does not match ") + event
                + ", the stand-in does the opposite\n    pattern " + p.get("pattern") + "\n    event " + e.get("event"));
          }
        }
      }
    }
    assertTrue(pairs > 0, "no pair was checked");
    assertTrue(mismatches.isEmpty(), () -> report(mismatches));
  }
}
