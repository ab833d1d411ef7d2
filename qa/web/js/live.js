// The question being answered: kept in view while its answer comes in.
watch("value", () => {
  const box = element.closest("#qa-chat");
  if (box && element.querySelector(".qa-turn")) box.scrollTop = box.scrollHeight;
});
