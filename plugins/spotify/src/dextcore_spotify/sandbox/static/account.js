// www.spotify.com/<cc>/account/* — renders the page from script#__NEXT_DATA__,
// as the Next.js app does after hydration.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("__NEXT_DATA__").textContent);
  var props = data.props.pageProps;
  var v2 = !!props.redesign;
  var market = props.market;
  var mount = document.getElementById("__next");

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] != null) node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function link(invoice, semanticId) {
    for (var i = 0; i < (invoice.menu || []).length; i++) {
      if (invoice.menu[i].link && invoice.menu[i].link.semanticId === semanticId) return invoice.menu[i].link.url;
    }
    return null;
  }

  var header = el("header", {}, [
    el("a", { href: "/www.spotify.com/" + market + "/" }, ["Spotify"]),
    el("button", { type: "button", "data-testid": v2 ? "account-menu-button" : "user-widget-link",
      "aria-label": props.user.displayName }, [props.user.displayName]),
    el("a", { href: "/www.spotify.com/" + market + "/logout/", "data-testid": "logout-link" }, ["Log out"])
  ]);
  var main = el("main", {});
  if (data.page.indexOf("order-history") >= 0) {
    main.appendChild(el("h1", {}, ["Order history"]));
    var invoices = props.paymentHistoryResult.invoices;
    var headings = ["Date", "Description", "Payment method", "Total", ""];
    if (v2) {
      var table = el("div", { role: "table", "data-testid": "payment-history" });
      table.appendChild(el("div", { role: "row" }, headings.map(function (h) { return el("span", { role: "columnheader" }, [h]); })));
      invoices.forEach(function (inv) {
        table.appendChild(el("div", { role: "row", "data-id": inv.id }, [
          el("span", { role: "cell" }, [inv.formattedSoldAt]),
          el("span", { role: "cell" }, [inv.productName]),
          el("span", { role: "cell" }, [inv.paymentMethod]),
          el("span", { role: "cell" }, [inv.formattedAmountSummary]),
          el("span", { role: "cell" }, [el("a", { href: link(inv, "receipt"), "data-testid": "receipt-link" }, ["Receipt"])])
        ]));
      });
      main.appendChild(table);
    } else {
      var tbody = el("tbody");
      invoices.forEach(function (inv) {
        tbody.appendChild(el("tr", { "data-invoice-id": inv.id }, [
          el("td", {}, [inv.formattedSoldAt]),
          el("td", {}, [inv.productName]),
          el("td", {}, [inv.paymentMethod]),
          el("td", {}, [inv.formattedAmountSummary]),
          el("td", {}, [el("a", { href: link(inv, "receipt"), "data-testid": "table-receipt" }, ["View receipt"])])
        ]));
      });
      main.appendChild(el("table", { "data-testid": "invoice-table" }, [
        el("thead", {}, [el("tr", {}, headings.map(function (h) { return el("th", {}, [h]); }))]),
        tbody
      ]));
    }
    if (!invoices.length) main.appendChild(el("p", { "data-testid": "empty-state" }, ["You have no receipts yet."]));
  } else {
    main.appendChild(el("h1", {}, ["Account overview"]));
    main.appendChild(el("section", { "data-testid": "plan-card" }, ["Your plan: " + props.plan.name]));
    main.appendChild(el("a", { href: "/www.spotify.com/" + market + "/account/order-history/" }, ["Order history"]));
  }
  mount.appendChild(header);
  mount.appendChild(main);
})();
