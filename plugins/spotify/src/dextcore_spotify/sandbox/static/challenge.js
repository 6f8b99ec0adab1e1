// challenge.spotify.com — the e-mailed code page and the reCAPTCHA page.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("bootstrap-data").textContent);
  var v2 = !!cfg.redesign;
  var root = document.getElementById("root");

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

  root.innerHTML = "";
  if (cfg.kind === "recaptcha") {
    // Automation cannot pass this box: the checkbox never completes.
    var box = el("div", { "class": "g-recaptcha", "data-testid": "recaptcha-challenge" }, [
      el("iframe", { title: "reCAPTCHA", src: "about:blank", width: "304", height: "78" }),
      el("label", {}, [el("input", { type: "checkbox", id: "recaptcha-anchor", disabled: true }), " I'm not a robot"])
    ]);
    root.appendChild(el("main", { "data-testid": "challenge-page" }, [
      el("h1", {}, ["We need to make sure that you're a human"]),
      box,
      el("button", { type: "button", "data-testid": "challenge-submit", disabled: true }, ["Continue"])
    ]));
    return;
  }

  var ERRORS = {
    errorInvalidCode: "The code you entered is incorrect. Please try again.",
    errorCodeExpired: "That code has expired. Request a new one.",
    errorInvalidCsrf: "Something went wrong. Please try again."
  };
  var children = [el("input", { type: "hidden", name: "csrf", value: cfg.csrf })];
  if (v2) {
    var hidden = el("input", { type: "hidden", name: "code", value: "" });
    var boxes = el("div", { "data-testid": "twofa-digits" });
    for (var i = 0; i < cfg.digits; i++) {
      boxes.appendChild(el("input", { type: "text", inputmode: "numeric", maxlength: "1",
        "aria-label": "Digit " + (i + 1), "data-testid": "twofa-digit-input" }));
    }
    children.push(hidden, boxes);
  } else {
    children.push(el("label", { "for": "code" }, ["6-digit code"]),
      el("input", { type: "text", name: "code", id: "code", inputmode: "numeric", autocomplete: "one-time-code",
        maxlength: String(cfg.digits) }));
  }
  if (cfg.allowTrust) {
    children.push(el("label", {}, [el("input", { type: "checkbox", name: "trusted", value: "1", id: "trusted" }),
      " Trust this device"]));
  }
  var submit = el("button", { type: "submit", "data-testid": v2 ? "verify-button" : "twofa-submit" }, ["Log in"]);
  children.push(submit);
  var form = el("form", { method: "post", action: "" }, children);
  form.addEventListener("submit", function () {
    if (v2) {
      var code = "";
      form.querySelectorAll("[data-testid=twofa-digit-input]").forEach(function (d) { code += d.value; });
      form.querySelector("input[name=code]").value = code;
    }
  });
  var resend = el("form", { method: "post", action: "" }, [
    el("input", { type: "hidden", name: "csrf", value: cfg.csrf }),
    el("input", { type: "hidden", name: "resend", value: "1" }),
    el("button", { type: "submit", "data-testid": "resend-code" }, ["Resend code"])
  ]);
  var main = el("main", { "data-testid": "twofa-page" }, [
    el("h1", {}, ["Enter the 6-digit code"]),
    el("p", {}, ["We sent a code to " + cfg.maskedEmail + "."])
  ]);
  if (cfg.error) {
    main.appendChild(el("div", { "data-encore-id": "banner", role: "alert", "data-error": cfg.error },
      [ERRORS[cfg.error] || "Something went wrong."]));
  }
  main.appendChild(form);
  main.appendChild(resend);
  root.appendChild(main);
})();
