// Gatehouse pages: small improvements on top of htmx; every page works without this file.
// After htmx swaps a card in, move focus to its heading so keyboard and screen-reader users
// land on the result (the result itself is also announced in the page's live region).
document.addEventListener("htmx:afterSwap", function (event) {
  var target = event.detail && event.detail.elt;
  if (!target || !target.isConnected) {
    var id = event.detail && event.detail.target && event.detail.target.id;
    target = id ? document.getElementById(id) : null;
  }
  var heading = target && target.querySelector ? target.querySelector("h2[tabindex], h3[tabindex]") : null;
  if (heading) {
    heading.focus();
  }
});
