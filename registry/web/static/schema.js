// Lists the API's endpoints from the OpenAPI JSON named by #schema's data-spec: for each, its
// method, path, summary, description, parameters and answer. Text only (textContent), so
// nothing in the schema can become markup; no inline script or style (the site's CSP).
(function () {
  "use strict";
  var main = document.getElementById("schema");
  var status = document.getElementById("schema-status");
  if (!main) return;

  function add(parent, tag, text, className) {
    var element = document.createElement(tag);
    if (text) element.textContent = text;
    if (className) element.className = className;
    parent.appendChild(element);
    return element;
  }

  function typeOf(schema) {
    if (!schema) return "";
    if (schema.$ref) return schema.$ref.split("/").pop();
    if (schema.oneOf || schema.anyOf) {
      return (schema.oneOf || schema.anyOf).map(typeOf).join(" | ");
    }
    if (schema.type === "array") return typeOf(schema.items) + "[]";
    return schema.type || "";
  }

  function describe(path, method, operation) {
    var section = add(main, "section", "", "endpoint");
    add(section, "h2", method.toUpperCase() + " " + path);
    if (operation.summary) add(section, "p", operation.summary, "lead");
    if (operation.description) add(section, "p", operation.description);
    var parameters = operation.parameters || [];
    if (parameters.length) {
      var list = add(section, "ul");
      parameters.forEach(function (parameter) {
        var line = parameter.name + " (" + parameter.in + ", " + typeOf(parameter.schema) +
          (parameter.required ? ", required" : "") + ")";
        add(list, "li", line);
      });
    }
    var ok = (operation.responses || {})["200"];
    var content = ok && ok.content && ok.content["application/json"];
    if (content) add(section, "p", "200: " + typeOf(content.schema), "muted");
  }

  fetch(main.dataset.spec, { headers: { Accept: "application/json" } })
    .then(function (answer) {
      if (!answer.ok) throw new Error(String(answer.status));
      return answer.json();
    })
    .then(function (spec) {
      status.remove();
      Object.keys(spec.paths || {}).sort().forEach(function (path) {
        var item = spec.paths[path];
        Object.keys(item).forEach(function (method) {
          if (typeof item[method] === "object" && item[method].responses) {
            describe(path, method, item[method]);
          }
        });
      });
    })
    .catch(function (error) {
      status.textContent = status.textContent + " (" + error.message + ")";
    });
})();
