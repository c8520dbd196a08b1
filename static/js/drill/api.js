// The call's JSON API through window.academyFetch (static/js/app.js adds the CSRF token).
// Every answer is {status, data}: status 0 when the server could not be reached, data null
// when the body is not JSON.

export function api(url, options) {
  return window.academyFetch(url, options || {}).then((response) => response.json().then(
    (data) => ({ status: response.status, data }),
    () => ({ status: response.status, data: null })),
  () => ({ status: 0, data: null }));
}

export function postJson(url, body) {
  return api(url, { method: "POST", headers: { "Content-Type": "application/json", "Accept": "application/json" },
                    body: JSON.stringify(body || {}) });
}

export function getJson(url) {
  return api(url, { headers: { "Accept": "application/json" } });
}
