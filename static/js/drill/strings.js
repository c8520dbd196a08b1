// The strings the call screen shows, translated on the server into the page's #drill-i18n block
// (no UI strings in the scripts). {name} placeholders are filled in from vars.

const STRINGS = {};
document.querySelectorAll("#drill-i18n [data-key]").forEach((node) => {
  STRINGS[node.getAttribute("data-key")] = node.textContent.trim();
});

export function t(key, vars) {
  let text = STRINGS[key] || "";
  Object.keys(vars || {}).forEach((name) => {
    text = text.split("{" + name + "}").join(String(vars[name]));
  });
  return text;
}

export const uiLang = document.documentElement.lang === "en" ? "en" : "zh-CN";
