// accounts.spotify.com/login — the sandbox's stand-in for Spotify's login app.
// Builds the form from script#bootstrap-data and posts JSON to login/password.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("bootstrap-data").textContent);
  var v2 = !!cfg.redesign;
  var root = document.getElementById("root");

  // Stand-in for reCAPTCHA v3: a one-use token from the server.
  window.grecaptcha = {
    execute: function () {
      return fetch("recaptcha/token", { method: "POST", credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (d) { return d.token; });
    }
  };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] === true) node.setAttribute(k, "");
      else if (attrs[k] !== false && attrs[k] != null) node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function cookie(name) {
    var parts = document.cookie.split("; ");
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) return decodeURIComponent(parts[i].slice(eq + 1));
    }
    return "";
  }

  function field(name, type, label, autocomplete) {
    var attrs = { name: name, type: type, autocomplete: autocomplete, placeholder: label };
    if (v2) attrs["data-testid"] = "login-" + name;
    else attrs.id = "login-" + name;
    return el("div", {}, [el("label", v2 ? {} : { "for": "login-" + name }, [label]), el("input", attrs)]);
  }

  var MESSAGES = {
    errorInvalidCredentials: "Incorrect username or password.",
    errorTooManyRequests: "Too many attempts. Please try again later.",
    errorInvalidCsrf: "Something went wrong. Please reload the page.",
    errorInvalidFlowContext: "Something went wrong. Please reload the page.",
    errorUnknownUser: "We couldn't find an account with that email or username."
  };
  var PROVIDERS = { google: "Google", facebook: "Facebook", apple: "Apple" };

  var banner = el("div", { id: "login-banner" });
  function showError(data) {
    var text = MESSAGES[data.error] || "Oops! Something went wrong, please try again.";
    if (data.error === "errorThirdPartyLogin") {
      text = "This account is connected to " + (PROVIDERS[data.provider] || data.provider) +
        ". Log in with " + (PROVIDERS[data.provider] || data.provider) + " instead.";
    }
    banner.innerHTML = "";
    banner.appendChild(el("div", { "data-encore-id": "banner", role: "alert", "data-error": data.error }, [text]));
  }

  var continueUrl = cfg["continue"];
  var query = "continue=" + encodeURIComponent(continueUrl);
  var button = el("button", v2 ? { type: "submit", "data-testid": "login-button" } : { type: "submit", id: "login-button" },
    [cfg.allowPassword ? "Log In" : "Continue"]);
  var children = [field("username", "text", "Email or username", "username")];
  if (cfg.allowPassword) {
    children.push(field("password", "password", "Password", "current-password"));
    children.push(el("label", {}, [el("input", { type: "checkbox", name: "remember", id: "login-remember", checked: true }), " Remember me"]));
  }
  children.push(button);
  var form = el("form", { id: "login-form", novalidate: true }, children);

  function value(name) { return form.querySelector("[name=" + name + "]"); }

  function send(path, payload) {
    button.disabled = true;
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-Csrf-Token": cookie("sp_sso_csrf_token") },
      body: JSON.stringify(payload)
    }).then(function (r) { return r.json(); }).then(function (data) {
      if (data.result === "ok") { window.location.assign(continueUrl); return; }
      if (data.result === "redirect_required") { window.location.assign(data.redirect_url); return; }
      button.disabled = false;
      showError(data);
    }, function () { button.disabled = false; showError({}); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var username = value("username").value.trim();
    if (!cfg.allowPassword) {
      send("login/otc", { username: username, "continue": continueUrl, flowCtx: cfg.flowCtx });
      return;
    }
    window.grecaptcha.execute().then(function (token) {
      send("login/password", {
        username: username,
        password: value("password").value,
        remember: value("remember").checked,
        "continue": continueUrl,
        flowCtx: cfg.flowCtx,
        recaptchaToken: token
      });
    });
  });

  var other = cfg.allowPassword
    ? el("a", { href: "login?" + query, "data-testid": "login-without-password" }, ["Log in without password"])
    : el("a", { href: "login?allow_password=1&" + query, "data-testid": "login-with-password" }, ["Log in with a password"]);
  root.innerHTML = "";
  root.appendChild(el("main", { "data-testid": v2 ? "login-container-v2" : "login-container" }, [
    el("h1", {}, ["Log in to Spotify"]),
    el("a", { href: "login/google?" + query, "data-testid": "google-login", role: "button" }, ["Continue with Google"]),
    el("a", { href: "#", "data-testid": "facebook-login", role: "button" }, ["Continue with Facebook"]),
    el("hr"),
    banner,
    form,
    el("p", {}, [other])
  ]));
})();
