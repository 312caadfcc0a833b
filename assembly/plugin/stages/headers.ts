// Stage for the `headers` section: applies the configured edits on every request and response.
// Names and values are UTF-8 encoded once at configure time, so applying them allocates nothing.

import {
  FilterHeadersStatus,
  MapType,
  removeHeaderBytes,
  replaceHeaderBytes,
} from "../../../proxy-wasm/index";
import { ConfigNode, ConfigReader } from "../../config/reader";
import { HeaderEdits, readHeadersSection } from "../../headers/config";
import { ConfigSection } from "../section";
import { Stage, StreamState } from "../stage";

/** HeaderEdits with names and values pre-encoded for the host calls. */
class EncodedEdits {
  setNames: ArrayBuffer[] = [];
  setValues: ArrayBuffer[] = [];
  removeNames: ArrayBuffer[] = [];

  constructor(edits: HeaderEdits) {
    for (let i = 0; i < edits.toRemove.length; i++) {
      this.removeNames.push(String.UTF8.encode(unchecked(edits.toRemove[i])));
    }
    for (let i = 0; i < edits.toSet.length; i++) {
      const setting = unchecked(edits.toSet[i]);
      this.setNames.push(String.UTF8.encode(setting.name));
      this.setValues.push(String.UTF8.encode(setting.value));
    }
  }

  /** Removes first, then sets, so a name in both ends up set. */
  apply(map: MapType): void {
    const removeNames = this.removeNames;
    for (let i = 0, n = removeNames.length; i < n; i++) {
      removeHeaderBytes(map, unchecked(removeNames[i]));
    }
    const setNames = this.setNames;
    const setValues = this.setValues;
    for (let i = 0, n = setNames.length; i < n; i++) {
      replaceHeaderBytes(map, unchecked(setNames[i]), unchecked(setValues[i]));
    }
  }
}

export class HeadersStage extends Stage {
  private request: EncodedEdits;
  private response: EncodedEdits;

  constructor(request: HeaderEdits, response: HeaderEdits) {
    super("headers");
    this.request = new EncodedEdits(request);
    this.response = new EncodedEdits(response);
  }

  onRequestHeaders(stream: StreamState, endOfStream: bool): FilterHeadersStatus {
    this.request.apply(MapType.HttpRequestHeaders);
    return FilterHeadersStatus.Continue;
  }

  onResponseHeaders(stream: StreamState, endOfStream: bool): FilterHeadersStatus {
    this.response.apply(MapType.HttpResponseHeaders);
    return FilterHeadersStatus.Continue;
  }
}

export class HeadersSection extends ConfigSection {
  constructor() {
    super("headers");
  }

  parse(r: ConfigReader, node: ConfigNode): Stage | null {
    const config = readHeadersSection(r, node);
    if (config == null) return null;
    return new HeadersStage(config.request, config.response);
  }
}
