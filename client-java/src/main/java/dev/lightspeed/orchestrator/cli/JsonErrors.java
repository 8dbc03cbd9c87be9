package dev.lightspeed.orchestrator.cli;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * protobuf JSON parse errors with the valid enum names added: the parser's own message
 * ({@code Invalid enum value: "SOURCE" for enum type: ...ConnectorKind}) lists none. The server's
 * --config has the same rule (ConfigJson); the CLI cannot depend on the server module.
 */
final class JsonErrors {
  private static final Pattern INVALID_ENUM =
      Pattern.compile("Invalid enum value: (.+) for enum type: ([\\w.]+)");

  private JsonErrors() {}

  static String explain(String message, Descriptor root) {
    if (message == null) {
      return "unreadable JSON";
    }
    Matcher m = INVALID_ENUM.matcher(message);
    if (!m.find()) {
      return message;
    }
    EnumDescriptor type = findEnum(root, m.group(2), new HashSet<>());
    if (type == null) {
      return message;
    }
    String valid = type.getValues().stream()
        .filter(v -> !v.getName().endsWith("_UNSPECIFIED"))
        .map(EnumValueDescriptor::getName)
        .collect(Collectors.joining(", "));
    return m.group(1) + " is not a " + type.getName() + "; valid values: " + valid;
  }

  private static EnumDescriptor findEnum(Descriptor message, String fullName, Set<String> seen) {
    if (!seen.add(message.getFullName())) {
      return null;
    }
    for (FieldDescriptor field : message.getFields()) {
      if (field.getType() == FieldDescriptor.Type.ENUM
          && field.getEnumType().getFullName().equals(fullName)) {
        return field.getEnumType();
      }
      if (field.getType() == FieldDescriptor.Type.MESSAGE) {
        EnumDescriptor found = findEnum(field.getMessageType(), fullName, seen);
        if (found != null) {
          return found;
        }
      }
    }
    return null;
  }
}
