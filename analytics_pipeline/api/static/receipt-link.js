// The "Value receipt" link: the receipt needs the API key, which a plain link cannot send,
// so a click fetches it with the key and opens the page from memory (a blob URL).
import { currentKey } from "./api.js";

const link = document.getElementById("receipt-link");

async function openReceipt(event) {
  const key = currentKey();
  if (!key) return; // no key kept (an open API): the plain link works as it is
  event.preventDefault();
  const shown = window.open("", "_blank");
  const response = await fetch(link.href, {
    headers: { Authorization: `Bearer ${key}` }, cache: "no-store",
  });
  const text = await response.text();
  // A blob page has no address of its own (and the policy it inherits forbids <base>),
  // so its stylesheet gets an absolute address on this origin.
  const page = response.ok
    ? text.replace("href=/static/", `href=${location.origin}/static/`)
    : `<p>${response.status}: receipt unavailable</p>`;
  const url = URL.createObjectURL(new Blob([page], { type: "text/html" }));
  if (shown) shown.location = url;
  else window.location.assign(url);
}

if (link) link.addEventListener("click", openReceipt);
