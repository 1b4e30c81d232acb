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

// Copy buttons (`data-copy` names the input whose value is copied), e.g. a package's My Access
// link. Without this script the input is still there to select and copy by hand.
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("button[data-copy]") : null;
  if (!button) {
    return;
  }
  var input = document.getElementById(button.getAttribute("data-copy"));
  var toast = document.getElementById("toast");
  if (!input) {
    return;
  }
  var done = function () {
    if (toast) {
      toast.textContent = "Link copied to the clipboard.";
    }
  };
  if (navigator.clipboard && navigator.clipboard.writeText) {
    navigator.clipboard.writeText(input.value).then(done, function () {
      input.select();
      if (toast) {
        toast.textContent = "Press Ctrl+C (or Cmd+C) to copy the selected link.";
      }
    });
  } else {
    input.select();
    if (document.execCommand && document.execCommand("copy")) {
      done();
    }
  }
});
